/* Stands in for pydata-sphinx-theme's fontawesome.js (1.45 MB), which turns icon elements into
   inline SVG. The theme's stylesheet already draws the same icons from Font Awesome's solid web
   font (about 150 KB, loaded only when an icon is shown), so nothing needs doing here. Sphinx
   copies this file over the theme's one of the same name (html_static_path comes after the
   theme's static files). */
