"""Product states the cells carry into the body: thaw impairment and IFN-gamma priming (issue 17).

- **Thawed cells** (``thawed`` = 1): freshly thawed MSCs are refractory to IFN-gamma (no IDO
  induction) and suppress T-cell proliferation poorly; after 24 h in culture both are fully
  restored (Francois 2012 Cytotherapy 14:147, PMID 22029655). The state ``thaw_impairment``
  (0..1) is the share of potency lost by the viable MSCs in the body: each thawed dose brings
  cells impaired by ``thaw_potency_loss``, they recover at ``k_thaw_recovery`` (95 % by 24 h).
- **Primed cells** (``primed`` = 1): IFN-gamma-licensed before infusion, so licensed at
  arrival; priming fades at the licensing off-rate ``k_lic_off`` unless inflammation keeps it.

Both are well-mixed shares of the viable MSCs in the body: arriving cells carry the dose's value
and mix in at the rate ``inflow / (viable cells + inflow * tau_product_mix)`` (``tau`` keeps
the mixing rate finite while the first cells of a bolus arrive). For fresh, unprimed products
both stay 0 and the model is unchanged.
"""

from __future__ import annotations

from mscsim.kinetics.common import P
from mscsim.numerics import OdeModel


def thawed_input(m: OdeModel):
    """Model input ``thawed``: 1 for a cryopreserved product thawed just before infusion."""
    return m.param("thawed", 0.0, unit="1", kind="input",
                   desc="1 for a cryopreserved product thawed just before infusion, 0 for fresh cells",
                   source="set per product (data/products.yaml)")


def add_product_state(m: OdeModel, species: str, *, inflow, viable):
    """States ``thaw_impairment`` and ``primed_share``; returns (potency factor, primed share)."""
    thawed = thawed_input(m)
    primed_in = m.param("primed", 0.0, unit="1", kind="input",
                        desc="1 for an IFN-gamma-primed (licensed before infusion) product",
                        source="set per product (data/products.yaml)")
    loss = P(m, "thaw_potency_loss", species)
    k_rec = P(m, "k_thaw_recovery", species)
    tau = P(m, "tau_product_mix", species)
    k_off = P(m, "k_lic_off", species)
    mix = m.rule("product_mixing", inflow / (viable + inflow * tau + 1.0), unit="1/day",
                 desc="rate at which arriving cells renew the viable MSCs in the body",
                 source="well-mixed share of the viable cells; the 1 cell in the denominator keeps the rate "
                        "finite before the first cells arrive [design]")
    thaw = m.state("thaw_impairment", unit="fraction", group="product", init=0.0, atol=1e-9,
                   desc="share of MSC potency lost to freezing and thawing (0 = fresh)")
    m.rate(thaw, mix * (loss * thawed - thaw) - k_rec * thaw,
           desc="thawed cells arrive impaired and recover over about 24 h",
           source="Francois 2012 PMID 22029655 (IDO and T-cell suppression impaired after thawing, restored "
                  "after 24 h) [loss size: design]")
    primed = m.state("primed_share", unit="fraction", group="product", init=0.0, atol=1e-9,
                     desc="share of viable MSCs licensed by IFN-gamma priming before infusion")
    m.rate(primed, mix * (primed_in - primed) - k_off * primed,
           desc="primed cells arrive licensed; priming fades at the licensing off-rate",
           source="Polchert 2008 Eur J Immunol 38:1745 (IFN-gamma pre-activated MSC) [form: design]")
    factor = m.rule("msc_potency_factor", 1 - thaw, unit="1",
                    desc="potency of the viable MSCs relative to fresh cells of the product",
                    source="Francois 2012 PMID 22029655", output=True)
    m.output("thaw_impairment")
    m.output("primed_share")
    return factor, primed
