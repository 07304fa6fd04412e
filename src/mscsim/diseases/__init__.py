"""Disease modules, one file each with the same shape (see ``base``):
``ra`` rheumatoid arthritis, ``t1d`` type 1 diabetes, ``ms`` multiple sclerosis, ``sle`` lupus,
``ibd`` inflammatory bowel disease, ``liver`` cirrhosis and liver failure."""
