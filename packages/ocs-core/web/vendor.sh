#!/bin/sh
# Copy the pinned browser libraries (npm ci first) into the panel's package
# data, src/ocs/web/static/vendor/. The copies are committed: no node or
# bundler is needed at run time, in CI or by `pip install ocs-core`.
# preact/hooks imports the bare name "preact"; it is rewritten to the
# relative file so the modules load without an import map.
set -eu
cd "$(dirname "$0")"
out=../src/ocs/web/static/vendor
rm -rf "$out"
mkdir -p "$out/licenses"
nm=node_modules
cp "$nm/autobahn-browser/autobahn.min.js" "$out/autobahn.min.js"
cp "$nm/preact/dist/preact.module.js" "$out/preact.module.js"
sed 's#from"preact"#from"./preact.module.js"#g' "$nm/preact/hooks/dist/hooks.module.js" > "$out/hooks.module.js"
cp "$nm/htm/dist/htm.module.js" "$out/htm.module.js"
cp "$nm/uplot/dist/uPlot.esm.js" "$out/uPlot.esm.js"
cp "$nm/uplot/dist/uPlot.min.css" "$out/uPlot.min.css"
for p in autobahn-browser preact htm uplot; do
  cp "$nm/$p/LICENSE" "$out/licenses/$p.LICENSE" 2>/dev/null || cp "$nm/$p/LICENSE.md" "$out/licenses/$p.LICENSE"
done
node -e "const p=['autobahn-browser','preact','htm','uplot'];const o={};for(const n of p)o[n]=require('./$nm/'+n+'/package.json').version;console.log(JSON.stringify(o,null,1))" > "$out/VERSIONS.json"
grep -q 'from"preact"' "$out/hooks.module.js" && { echo "vendor.sh: bare import left in hooks.module.js" >&2; exit 1; }
echo "vendored into $out:"; ls "$out"
