// Standards checks for a running Quire site, in real tools:
//   - every page type through the Nu HTML Checker (vnu.jar): 0 errors;
//   - every page type through axe-core in Chromium, WCAG 2.2 AA tags, in the
//     light and the dark colour scheme: 0 violations;
//   - screenshots to look at (light, dark, RTL, print, 320 px wide).
//
// Usage: QUIRE_E2E_URL=http://127.0.0.1:18400 QUIRE_E2E_PAPERS=papers.json node check.mjs
// papers.json is the output of `quire paper list --json` for the same site.

import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const base = (process.env.QUIRE_E2E_URL || "http://127.0.0.1:18400").replace(/\/$/, "");
const papers = JSON.parse(readFileSync(process.env.QUIRE_E2E_PAPERS || join(here, "papers.json"), "utf8"));
const artifacts = process.env.QUIRE_E2E_ARTIFACTS || join(here, "artifacts");
mkdirSync(artifacts, { recursive: true });

const now = Date.now();
const listed = papers.filter(
  (p) => (p.status === "published" || p.status === "scheduled") && p.published_at && Date.parse(p.published_at) <= now,
);
const byLanguage = (lang) => {
  const p = listed.find((p) => p.language === lang);
  if (!p) throw new Error(`the site has no listed paper in ${lang}: the demo should have one`);
  return p;
};
const english = listed.find((p) => p.language === "en" && p.authors.length > 0 && p.topics.length > 0);
const hebrew = byLanguage("he");
const arabic = byLanguage("ar");
const titleWord = english.title.split(/\s+/).find((w) => w.length > 4) || english.title.split(/\s+/)[0];

const pages = [
  ["home", "/"],
  ["paper (LTR)", `/papers/${english.slug}/`],
  ["paper (RTL, Hebrew)", `/papers/${hebrew.slug}/`],
  ["paper (RTL, Arabic)", `/papers/${arabic.slug}/`],
  ["author", `/authors/${english.authors[0].slug}/`],
  ["authors", "/authors/"],
  ["topic", `/topics/${english.topics[0].slug}/`],
  ["topics", "/topics/"],
  ["archive", "/archive/"],
  ["archive (page 2)", "/archive/?page=2"],
  ["search (form)", "/search"],
  ["search (results)", `/search?q=${encodeURIComponent(titleWord)}`],
  ["search (no results)", "/search?q=zzqxv+nothing"],
  ["search (hostile)", `/search?q=${encodeURIComponent('"><script>alert(1)</script> OR title:* NEAR(')}&year=abc`],
  ["404", "/no-such-page/"],
  ["subscribe", "/subscribe"],
  ["subscribe (sent)", "/subscribe?sent=1"],
];
// A paper with a figure (the demo draws charts for some English papers).
let figured = null;
for (const p of listed.filter((p) => p.language === "en")) {
  if ((await fetch(`${base}/papers/${p.slug}/figure-1.svg`)).ok) {
    figured = p;
    break;
  }
}
if (!figured) throw new Error("the demo should have a listed paper with a figure");
pages.push(["paper (figure)", `/papers/${figured.slug}/`]);

let failures = 0;
const fail = (msg) => {
  failures += 1;
  console.log(`FAIL ${msg}`);
};

// --- Nu HTML Checker -------------------------------------------------------
const htmlDir = join(artifacts, "html");
rmSync(htmlDir, { recursive: true, force: true });
mkdirSync(htmlDir, { recursive: true });
const files = [];
for (const [name, path] of pages) {
  const res = await fetch(base + path);
  const expected = name === "404" ? 404 : 200;
  if (res.status !== expected) fail(`${name} ${path}: HTTP ${res.status}, expected ${expected}`);
  const file = join(htmlDir, name.replace(/[^a-z0-9]+/gi, "-") + ".html");
  writeFileSync(file, await res.text());
  files.push([name, file]);
}
const vnu = require("vnu-jar");
let report;
try {
  const out = execFileSync("java", ["-jar", vnu, "--format", "json", "--stdout", ...files.map((f) => f[1])], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  report = JSON.parse(out);
} catch (e) {
  // vnu exits 1 when it found errors; its report is still on stdout.
  report = JSON.parse(e.stdout);
}
console.log("\nNu HTML Checker (vnu.jar)");
for (const [name, file] of files) {
  const messages = report.messages.filter((m) => m.url && m.url.endsWith(file.split("/").pop()));
  const errors = messages.filter((m) => m.type === "error" || m.subType === "fatal");
  const warnings = messages.filter((m) => m.type === "info" && m.subType === "warning");
  console.log(`  ${name.padEnd(22)} ${errors.length} errors, ${warnings.length} warnings`);
  for (const m of errors) fail(`vnu ${name} line ${m.lastLine}: ${m.message} (${(m.extract || "").trim()})`);
}

// --- axe-core in Chromium --------------------------------------------------
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
console.log(`\naxe-core ${JSON.parse(readFileSync(require.resolve("axe-core/package.json"), "utf8")).version} (${tags.join(", ")})`);
for (const scheme of ["light", "dark"]) {
  // bypassCSP lets the checker's script run on pages that allow no inline script.
  const context = await browser.newContext({ colorScheme: scheme, bypassCSP: true });
  const page = await context.newPage();
  for (const [name, path] of pages) {
    await page.goto(base + path, { waitUntil: "load" });
    await page.evaluate(axeSource);
    const result = await page.evaluate(
      (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] }),
      tags,
    );
    const count = result.violations.reduce((n, v) => n + v.nodes.length, 0);
    console.log(`  ${scheme.padEnd(5)} ${name.padEnd(22)} ${result.violations.length} violations (${count} nodes)`);
    for (const v of result.violations) {
      fail(`axe ${scheme} ${name}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ")}`);
    }
  }
  await context.close();
}

// --- Behaviour that needs a browser ------------------------------------------
{
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/papers/${english.slug}/`);
  // The print button appears only when its script runs.
  if (!(await page.isVisible("[data-print]"))) fail("the Print button is hidden although scripts run");
  // Reading needs no script.
  const noScript = await browser.newContext({ javaScriptEnabled: false });
  const bare = await noScript.newPage();
  await bare.goto(`${base}/papers/${english.slug}/`);
  if (await bare.isVisible("[data-print]")) fail("the Print button shows without script, where it cannot work");
  if (!(await bare.isVisible(".paper-body"))) fail("the paper's text is not visible without script");
  // Figures load and keep their proportions (width and height are given).
  await page.goto(`${base}/papers/${figured.slug}/`);
  const figure = await page.evaluate(async () => {
    const img = document.querySelector(".paper-body figure img");
    if (!img) return null;
    img.scrollIntoView();
    await img.decode().catch(() => {});
    return { natural: img.naturalWidth, width: img.width, height: img.height, caption: img.nextElementSibling?.textContent };
  });
  if (!figure) fail("the paper with a figure shows no figure");
  else {
    if (figure.natural === 0) fail("the figure's image did not load");
    if (Math.abs(figure.width / figure.height - 2) > 0.05) fail(`the figure is distorted: ${figure.width}×${figure.height}`);
    if (!figure.caption?.startsWith("Figure 1:")) fail(`the figure's caption is ${figure.caption}`);
  }
  await bare.goto(`${base}/search?q=${encodeURIComponent(titleWord)}`);
  if ((await bare.locator(".result").count()) === 0) fail("search finds nothing without script");
  await noScript.close();
  // Pages fit 320 px without sideways scrolling.
  await page.setViewportSize({ width: 320, height: 800 });
  for (const [name, path] of pages) {
    await page.goto(base + path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (overflow > 0) fail(`${name} scrolls sideways by ${overflow}px at 320px wide`);
  }
  await context.close();
}

// --- Screenshots -------------------------------------------------------------
const shots = [
  ["home-light", "/", { colorScheme: "light", viewport: { width: 1280, height: 900 } }],
  ["paper-light", `/papers/${english.slug}/`, { colorScheme: "light", viewport: { width: 1280, height: 1100 } }],
  ["paper-dark", `/papers/${english.slug}/`, { colorScheme: "dark", viewport: { width: 1280, height: 1100 } }],
  ["paper-rtl", `/papers/${hebrew.slug}/`, { colorScheme: "light", viewport: { width: 1280, height: 1100 } }],
  ["paper-rtl-arabic-dark", `/papers/${arabic.slug}/`, { colorScheme: "dark", viewport: { width: 1280, height: 1100 } }],
  ["paper-320", `/papers/${english.slug}/`, { colorScheme: "light", viewport: { width: 320, height: 900 } }],
  ["paper-comments", `/papers/${english.slug}/#comments`, { colorScheme: "light", viewport: { width: 1280, height: 1100 } }],
  ["paper-comment-form-dark", `/papers/${english.slug}/#respond`, { colorScheme: "dark", viewport: { width: 1280, height: 1100 } }],
  ["search-320", `/search?q=${encodeURIComponent(titleWord)}`, { colorScheme: "light", viewport: { width: 320, height: 900 } }],
  ["search-light", `/search?q=${encodeURIComponent(titleWord)}`, { colorScheme: "light", viewport: { width: 1280, height: 1000 } }],
];
for (const [name, path, options] of shots) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await page.goto(base + path);
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
  await context.close();
}
for (const colorScheme of ["light", "dark"]) {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 1100 } });
  const page = await context.newPage();
  await page.goto(`${base}/papers/${figured.slug}/`);
  const figure = page.locator(".paper-body figure").first();
  await figure.scrollIntoViewIfNeeded();
  await figure.screenshot({ path: join(artifacts, `paper-figure-${colorScheme}.png`) });
  await context.close();
}
{
  const context = await browser.newContext({ viewport: { width: 1000, height: 1400 } });
  const page = await context.newPage();
  await page.goto(`${base}/papers/${english.slug}/`);
  await page.emulateMedia({ media: "print" });
  await page.screenshot({ path: join(artifacts, "paper-print.png"), fullPage: false });
  await page.pdf({ path: join(artifacts, "paper-print.pdf"), format: "A4" });
  await context.close();
}
await browser.close();
console.log(`\nScreenshots in ${artifacts}`);

if (failures > 0) {
  console.log(`\n${failures} problem(s) found.`);
  process.exit(1);
}
console.log("\nEvery page passed the Nu HTML Checker and axe-core.");
