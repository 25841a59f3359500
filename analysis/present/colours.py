"""The colours of the cities in every figure (the brief's Figure 1 caption)."""

CITY_COLOURS = {"Beijing": "#000000", "Shanghai": "#7B2CBF", "Shenzhen": "#1F5FBF"}
