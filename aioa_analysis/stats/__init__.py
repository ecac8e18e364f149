"""Statistics on the clean contract table: pure ``DataFrame -> DataFrame`` estimators.

Each estimator takes the contract table and an explicit ``as_of`` and returns a tidy table with its
numerators and denominators beside each rate. :mod:`.outcomes` (a contract's outcome at ``as_of``),
:mod:`.dimensions` (the public grouping names), :mod:`.intervals` (confidence intervals),
:mod:`.linking` (linking a rupture to the apprentice's next contract), :mod:`.rates`, :mod:`.survival`,
:mod:`.seasonality`, :mod:`.transitions`, :mod:`.diploma`, :mod:`.compare` (comparing CFAs fairly),
:mod:`.suppression` (small cells) and :mod:`.reference_rates` (published national and regional rates).
"""
