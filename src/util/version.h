/* The release this binary was built from: VERSION plus `git describe`, baked in at
 * build time (the Makefile writes it into $(BUILD)/version.c). */
#pragma once

extern const char cnt_version[];
