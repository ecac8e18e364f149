"""Statistics on the clean contract table: pure ``DataFrame -> DataFrame`` estimators.

Each estimator takes the contract table and an explicit ``as_of`` and returns a tidy table with its
numerators and denominators beside each rate. Building blocks, one home each: :mod:`.outcomes` (a
contract's outcome at ``as_of``), :mod:`.dimensions` (the public grouping names), :mod:`.intervals`
(every confidence interval and control limit), :mod:`.suppression` (the small-cell rule and the
publication step), :mod:`.tables` (the tidy rate table: counts per group, rate, interval, flags),
:mod:`.linking` (linking a rupture to the apprentice's next contract), :mod:`.exposure`
(contract-months at risk) and :mod:`.age_period` (the age × period model). Estimators:
:mod:`.rates`, :mod:`.survival` (the one Kaplan-Meier), :mod:`.seasonality`, :mod:`.transitions`,
:mod:`.diploma`, :mod:`.compare` (comparing CFAs fairly) and :mod:`.reference_rates` (published
national and regional rates).
"""
