/* wr_report_assets.h - The style sheet and the script of index.html, as
 * the bytes of harness/report/assets/report.css and report.js.
 *
 * They are not written here: meson runs scripts/embed-asset.py at build
 * time (harness/meson.build), which turns each asset into a C file in the
 * build directory defining its array (the file's bytes, then a NUL) and
 * its length (the NUL not counted). Edit the assets, not those files.
 * Private to the HTML writer; constant, so safe from any thread. */
#ifndef WR_REPORT_ASSETS_H
#define WR_REPORT_ASSETS_H

#include <stddef.h>

/* harness/report/assets/report.css: the <style> of the page. */
extern const char wr__asset_report_css[];
extern const size_t wr__asset_report_css_len;

/* harness/report/assets/report.js: the <script> of the page. */
extern const char wr__asset_report_js[];
extern const size_t wr__asset_report_js_len;

#endif
