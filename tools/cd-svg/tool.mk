# cd-svg embeds its script and style: generate C strings from the sources
# kept as real .js/.css files so they can be read and linted as such.
GEN_HDRS += $(O)/gen/cd_svg_assets.h

$(O)/gen/cd_svg_assets.h: tools/cd-svg/script.js tools/cd-svg/style.css tools/cd-svg/embed.sh
	@mkdir -p $(@D)
	sh tools/cd-svg/embed.sh tools/cd-svg/script.js tools/cd-svg/style.css > $@.tmp && mv $@.tmp $@
