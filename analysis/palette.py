"""One palette, one place: city order and colours (the brief's Figure 1 caption)."""

CITIES = ("Beijing", "Shanghai", "Shenzhen")
CITY_COLOURS = {"Beijing": "#000000", "Shanghai": "#7B2CBF", "Shenzhen": "#1F5FBF"}
