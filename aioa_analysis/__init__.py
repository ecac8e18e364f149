"""aioa_analysis: apprenticeship contract ruptures in Loir-et-Cher.

Read the files the working group's members hold (DECA extracts, Tableau de bord workbooks, SIFA files,
consular-chamber spreadsheets, exam results), clean them into one pseudonymised contract table, compute
rupture statistics as official statisticians do, and render offline French HTML reports.

Importing the package does no work: every module is imported on demand.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
