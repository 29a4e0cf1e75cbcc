#!/bin/sh
# Vendor Swagger UI (the /docs page's OpenAPI viewer) from the npm registry into the package:
# the bundle, its stylesheet and their licence files, byte for byte. Run again with another
# version to update it; the version is recorded in src/parley/web/static/swagger-ui.VERSION.
set -eu
version="${1:-5.35.0}"
static="$(cd "$(dirname "$0")/.." && pwd)/src/parley/web/static"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "swagger-ui-dist@$version" >/dev/null && tar xzf "swagger-ui-dist-$version.tgz")
cp "$work/package/swagger-ui-bundle.js" "$work/package/swagger-ui.css" "$static/"
cp "$work/package/swagger-ui-bundle.js.LICENSE.txt" "$static/swagger-ui-bundle.js.LICENSE.txt"
cat "$work/package/LICENSE" "$work/package/NOTICE" >"$static/swagger-ui.LICENSE.txt"
echo "swagger-ui-dist $version (npm)" >"$static/swagger-ui.VERSION"
echo "vendored swagger-ui-dist $version into $static"
