#!/bin/sh
# refresh.sh fetches the vendored JavaScript at its pinned version from the
# npm registry, as plain tarballs (curl and tar only; no Node), into vendor/.
# Change a version here, run `make console-assets`, review the diff, commit.
set -eu
cd "$(dirname "$0")/vendor"

HTMX_VERSION=2.0.11
# ECharts draws the results and report charts. The full build: the report
# pages need its legend, heat map, visual map and custom series (error
# bars), which the "simple" build leaves out; English and Chinese are
# built in.
ECHARTS_VERSION=6.1.0

registry=https://registry.npmjs.org

# fetch NAME VERSION FILE-IN-PACKAGE OUTPUT
fetch() {
	url="$registry/$1/-/$1-$2.tgz"
	curl -fsSL "$url" | tar -xzO "package/$3" >"$4.tmp"
	mv "$4.tmp" "$4"
	echo "$4	$1@$2	$(sha256sum "$4" | cut -d' ' -f1)"
}

{
	fetch htmx.org "$HTMX_VERSION" dist/htmx.min.js htmx.min.js
	fetch htmx.org "$HTMX_VERSION" LICENSE htmx.LICENSE
	fetch echarts "$ECHARTS_VERSION" dist/echarts.min.js echarts.min.js
	fetch echarts "$ECHARTS_VERSION" LICENSE echarts.LICENSE
	fetch echarts "$ECHARTS_VERSION" NOTICE echarts.NOTICE
	fetch echarts "$ECHARTS_VERSION" licenses/LICENSE-d3 echarts.LICENSE-d3
} >VERSIONS
cat VERSIONS
