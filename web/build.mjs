// build.mjs - `npm run build`: assembles web/dist from web/src, the SDK (sdk/js/src) and
// uPlot from node_modules.  No bundler: the page is plain ES modules served by nginx.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');
const src = path.join(here, 'src');
const sdk = path.resolve(here, '..', 'sdk', 'js', 'src', 'pingoo.js');
const uplot = path.join(here, 'node_modules', 'uplot');

function copy(from, to) {
	if (!fs.existsSync(from))
		throw new Error(`missing ${path.relative(here, from)} (did \`npm ci\` run in web/?)`);
	fs.mkdirSync(path.dirname(to), { recursive: true });
	fs.copyFileSync(from, to);
}

fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(dist, { recursive: true });
for (const f of fs.readdirSync(src))
	copy(path.join(src, f), path.join(dist, f));
copy(sdk, path.join(dist, 'pingoo.js'));
copy(path.join(uplot, 'dist', 'uPlot.iife.min.js'), path.join(dist, 'vendor', 'uplot.iife.min.js'));
copy(path.join(uplot, 'dist', 'uPlot.min.css'), path.join(dist, 'vendor', 'uplot.min.css'));
copy(path.join(uplot, 'LICENSE'), path.join(dist, 'vendor', 'uplot.LICENSE'));

let total = 0;
const walk = (d) => {
	for (const e of fs.readdirSync(d, { withFileTypes: true })) {
		const p = path.join(d, e.name);
		if (e.isDirectory())
			walk(p);
		else
			total += fs.statSync(p).size;
	}
};
walk(dist);
console.log(`web/dist built: ${(total / 1024).toFixed(1)} KiB`);
