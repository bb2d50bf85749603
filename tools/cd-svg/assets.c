/* The embedded script and style: generated from script.js and style.css. */
#include "svg.h"
#include "cd_svg_assets.h"
