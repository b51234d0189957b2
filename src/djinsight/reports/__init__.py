"""Historical figures for the dashboard, the API and exports: parameters, queries, labels, charts."""
