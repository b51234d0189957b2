"""Historical figures for the dashboard, the API and exports.

Parameters, queries, labels and charts.
"""
