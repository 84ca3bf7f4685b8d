// The same app built with webpack 5 (`npm run build:webpack`, into dist-webpack/): webpack
// emits authpulse_bg.wasm by itself, from `new URL("authpulse_bg.wasm", import.meta.url)` in the
// package. ts-loader compiles the TypeScript; the page is index.html with the bundle's script.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

// index.html with webpack's bundle in place of Vite's entry.
class IndexHtml {
  apply(compiler) {
    compiler.hooks.thisCompilation.tap("IndexHtml", (compilation) => {
      compilation.hooks.processAssets.tap({ name: "IndexHtml", stage: compiler.webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
        const html = readFileSync(here("index.html"), "utf8").replace('src="/src/main.ts"', 'src="/main.js"');
        compilation.emitAsset("index.html", new compiler.webpack.sources.RawSource(html));
      });
    });
  }
}

export default {
  entry: here("src/main.ts"),
  output: { path: here("dist-webpack"), filename: "main.js", publicPath: "/", module: true, clean: true },
  experiments: { outputModule: true },
  resolve: { extensions: [".ts", ".js"] },
  // Type-checked by `tsc` (npm run build); here only compiled.
  module: { rules: [{ test: /\.ts$/, loader: "ts-loader", options: { transpileOnly: true, compilerOptions: { noEmit: false } } }] },
  plugins: [new IndexHtml()],
  performance: { hints: false },
};
