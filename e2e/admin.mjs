// The admin in a real browser (Debian's Chromium through playwright-core):
//  1. the first account is made with `quire user add`; its printed link
//     is opened, a password set, and the dashboard shown;
//  2. an editor is invited from the accounts screen; two-step
//     verification is turned on with a code computed here (RFC 6238);
//  3. signing out, then in again with the keyboard alone, through the
//     second step with a recovery code;
//  4. every admin screen: 0 Nu HTML Checker errors, 0 axe-core WCAG 2.2 AA
//     violations (light and dark), every link, button and field reached
//     with Tab, no sideways scrolling at 320 px; screenshots for
//     docs/admin.md.
// Usage: QUIRE_E2E_URL=… QUIRE_E2E_BIN=quire QUIRE_E2E_DATA=DIR node admin.mjs
// QUIRE_E2E_DOCS=DIR also writes the screenshots the docs show into DIR.
import { chromium } from "playwright-core";
import { createHmac } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const base = process.env.QUIRE_E2E_URL.replace(/\/$/, "");
const artifacts = join(process.env.QUIRE_E2E_ARTIFACTS || join(here, "artifacts"), "admin");
mkdirSync(artifacts, { recursive: true });
const docs = process.env.QUIRE_E2E_DOCS;
if (docs) mkdirSync(docs, { recursive: true });
const quire = (...args) =>
  execFileSync(process.env.QUIRE_E2E_BIN, ["--data-dir", process.env.QUIRE_E2E_DATA, ...args], { encoding: "utf8" });

let failures = 0;
const fail = (msg) => {
  failures += 1;
  console.log(`FAIL ${msg}`);
};

// RFC 6238 with SHA-1, six digits, thirty seconds: what authenticator apps compute.
const base32 = (text) => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of text.replace(/[\s=]/g, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
};
const totp = (secret, at = Date.now()) => {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const offset = mac[19] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
};
// RFC 6238 appendix B, so a mistake here is not blamed on Quire.
if (totp("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59_000) !== "287082") throw new Error("the test's TOTP is wrong");

const stamp = Date.now();
const email = `admin-${stamp}@example.org`;
const password = "harbour lighthouse tide chart";
const printed = quire("user", "add", email, "--name", "Ada Admin", "--role", "administrator");
const link = printed.match(/https?:\/\/\S+\/admin\/password\?token=\S+/);
if (!link) throw new Error(`quire user add printed no link:\n${printed}`);
// The demo serves on a port of its own; the link names the configured one.
const linkPath = new URL(link[0]).pathname + new URL(link[0]).search;

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const shots = [];
const shoot = async (name) => {
  const file = `${name}.png`;
  await page.screenshot({ path: join(artifacts, file), fullPage: true });
  if (docs) await page.screenshot({ path: join(docs, file) });
  shots.push(file);
};

// Screens to check, as [name, path, signed in]: their HTML is taken as
// the browser gets it, with its cookies.
const screens = [];
const remember = async (name) => {
  const url = page.url();
  const html = await (await page.request.get(url)).text();
  screens.push({ name, path: new URL(url).pathname + new URL(url).search, html, signedIn: name.startsWith("signed in") });
};

// --- 1. The printed link, a password, the dashboard --------------------------
await page.goto(base + linkPath);
await page.waitForLoadState("load");
if (!(await page.locator("h1").innerText()).includes("Set your password")) fail("the printed link does not open the password form");
await remember("set password");
await shoot("set-password");
await page.fill("#new-password", password);
await page.fill("#repeat-password", password);
await Promise.all([page.waitForURL(/\/admin\/\?welcome=1$/), page.click("button[type=submit]")]);
if (!(await page.locator("main").innerText()).includes("Your password is set")) fail("the dashboard does not welcome the new account");
const cookies = await context.cookies();
const session = cookies.find((c) => c.name === "quire_session");
if (!session) fail("no session cookie after setting the password");
else if (!session.httpOnly || session.sameSite !== "Lax" || session.path !== "/admin") {
  fail(`the session cookie is ${JSON.stringify(session)}`);
}
await remember("signed in: dashboard");
await shoot("dashboard");
const reused = await context.newPage();
await reused.goto(base + linkPath);
if (!(await reused.locator("h1").innerText()).includes("has been used")) fail("the printed link works twice");
await reused.close();
console.log(`set a password from the printed link and signed in as ${email}`);

// --- 2. Invite an editor; turn two-step verification on ----------------------
await page.goto(`${base}/admin/users`);
await page.fill("#invite-email", `editor-${stamp}@example.org`);
await page.fill("#invite-name", "Eda Editor");
await page.selectOption("#invite-role", "editor");
await Promise.all([page.waitForURL(/done=invited/), page.click("form[action='/admin/users/invite'] button")]);
if (!(await page.locator(".admin-notice").innerText()).includes(`editor-${stamp}@example.org`)) fail("no notice of the invitation");
if (!(await page.locator("main").innerText()).includes("Invited (no password yet)")) fail("the invited editor is not listed");
await remember("signed in: accounts");
await shoot("accounts");
// Papers: the list, a filter, a bulk action.
await page.goto(`${base}/admin/papers`);
await remember("signed in: papers");
await shoot("papers");
await page.selectOption("#filter-status", "draft");
await Promise.all([page.waitForURL(/status=draft/), page.click(".admin-filters button")]);
await remember("signed in: papers, drafts");
const drafts = await page.locator("input[name=slug]").count();
if (drafts === 0) fail("the demo has no drafts to publish");
else {
  const slug = await page.locator("input[name=slug]").first().getAttribute("value");
  await page.check(`input[name=slug][value="${slug}"]`);
  await page.selectOption("#bulk-action", "publish");
  await Promise.all([page.waitForURL(/done=1/), page.click(".admin-bulk button")]);
  if (!(await page.locator(".admin-notice").innerText()).includes("Done: 1 paper")) fail("the bulk action does not say what it did");
  const res = await page.request.get(`${base}/papers/${slug}/`);
  if (res.status() !== 200) fail(`the draft published in bulk answers ${res.status()} on the site`);
  console.log(`published the draft ${slug} from the papers list; the site serves it`);
}
await page.goto(`${base}/admin/papers?status=trash`);
await remember("signed in: papers, trash");
// Authors and topics: add a topic, edit an author.
await page.goto(`${base}/admin/topics`);
await page.fill("#byline-name", `Topic ${stamp}`);
await page.fill("#byline-description", "Made in the browser checks.");
await Promise.all([page.waitForURL(/done=added/), page.click("form[action='/admin/topics/save'] button")]);
if (!(await page.locator("main").innerText()).includes(`Topic ${stamp}`)) fail("the topic added is not listed");
await remember("signed in: topics");
await page.goto(`${base}/admin/authors`);
await remember("signed in: authors");
await page.click("main table a:has-text('Edit')");
await page.waitForURL(/edit=/);
await remember("signed in: author, editing");
// The editor: a new paper with a footnote (from the toolbar), a table and
// an uploaded image, saved, previewed beside the text and in a tab,
// published and read on the site and in its PDF; then changed, and its
// revisions compared.
{
  const author = (await page.locator("main table tbody tr td").first().innerText()).trim();
  await page.goto(`${base}/admin/papers/new`);
  await remember("signed in: new paper");
  const title = `Harbour Dues ${stamp}`;
  await page.fill("#paper-title", title);
  await page.fill("#paper-summary", "Why harbour dues rose, briefly.");
  await page.fill("#paper-authors", author);
  await page.fill("#paper-body", "Dues rose by a third.");
  await page.click("#paper-body");
  await page.keyboard.press("End");
  await page.click(".editor-toolbar button[aria-label='Footnote']");
  const withNote = await page.inputValue("#paper-body");
  if (!withNote.includes("third.[^1]") || !withNote.includes("[^1]: ")) fail(`the toolbar's footnote is not inserted: ${JSON.stringify(withNote)}`);
  await page.fill("#paper-body", "Dues rose by a third.[^1]\n\n| Port | Dues |\n|---|---|\n| Haifa | 30 |\n\n[^1]: The harbour's own accounts.\n");
  await Promise.all([page.waitForURL(/saved=draft$/), page.click("button[value=save]")]);
  if (!(await page.locator(".admin-notice").innerText()).includes("Draft saved")) fail("the editor does not say the draft is saved");
  const slug = page.url().match(/\/admin\/papers\/([a-z0-9-]+)\/edit/)[1];
  // An image: 2 × 2 pixels of harbour blue, uploaded with what it shows.
  const png = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGMQjpsGRAwQCgAaxgQdbEl6nQAAAABJRU5ErkJggg==",
    "base64",
  );
  await page.setInputFiles("#paper-image", { name: "dues-chart.png", mimeType: "image/png", buffer: png });
  await page.fill("#paper-image-description", "A chart of harbour dues");
  await page.click("#image-form button[type=submit]");
  await page.waitForSelector(".admin-notice");
  const notice = await page.locator(".admin-notice").innerText();
  if (!notice.includes("![A chart of harbour dues](dues-chart.png)")) fail(`the upload does not give the Markdown to use: ${notice}`);
  const text = await page.inputValue("#paper-body");
  await page.fill("#paper-body", text + "\n![A chart of harbour dues](dues-chart.png)\n");
  await shoot("editor");
  // The preview beside the text, then in a tab of its own.
  await page.click(".editor-toolbar button[aria-expanded]");
  const side = page.frameLocator("iframe[name=editor-preview]");
  await side.locator("h1").waitFor();
  if (!(await side.locator("h1").innerText()).includes(title)) fail("the preview beside the text does not show the paper");
  await page.click(".editor-toolbar button[aria-expanded]");
  const [preview] = await Promise.all([context.waitForEvent("page"), page.click("button[formaction='/admin/papers/preview']")]);
  await preview.waitForLoadState("load");
  if (!(await preview.locator("h1").innerText()).includes(title)) fail("the preview does not show the paper's title");
  if ((await preview.locator("li[id='fn:1']").count()) !== 1) fail("the preview has no numbered footnote");
  await preview.close();
  await Promise.all([page.waitForURL(/saved=published$/), page.click("button[value=publish]")]);
  const onSite = await page.request.get(`${base}/papers/${slug}/`);
  const html = await onSite.text();
  if (onSite.status() !== 200 || !html.includes(title) || !html.includes("<table>")) fail(`the published paper answers ${onSite.status()} on the site`);
  if (!html.includes('alt="A chart of harbour dues"')) fail("the published paper does not show the image with its description");
  const image = await page.request.get(`${base}/papers/${slug}/dues-chart.png`);
  if (image.status() !== 200 || image.headers()["content-type"] !== "image/png") fail(`the image answers ${image.status()} ${image.headers()["content-type"]}`);
  const pdf = await page.request.get(`${base}/papers/${slug}.pdf`);
  const bytes = await pdf.body();
  if (pdf.status() !== 200 || bytes.subarray(0, 5).toString() !== "%PDF-") fail(`the paper's PDF answers ${pdf.status()}`);
  writeFileSync(join(artifacts, `${slug}.pdf`), bytes);
  const pdfText = execFileSync("pdftotext", [join(artifacts, `${slug}.pdf`), "-"], { encoding: "utf8" });
  if (!pdfText.includes("Harbour Dues") || !pdfText.includes("Haifa")) fail("the PDF does not hold the paper's text and table");
  await page.fill("#paper-summary", "Why harbour dues rose, and who paid.");
  await Promise.all([page.waitForURL(/saved=saved$/), page.click("button[value=save]")]);
  await page.goto(`${base}/admin/papers/${slug}/revisions?old=2&new=3`);
  if (!(await page.locator(".diff").first().innerText()).includes("who paid")) fail("the comparison does not show the change");
  await remember("signed in: revisions");
  await shoot("revisions");
  console.log(`wrote ${slug} in the editor with a footnote, a table and an image; previewed, published, read on the site and in its PDF; its revisions compare`);
}
// Comments: a reader's comment waits; it is approved from the queue.
{
  const listed = await (await page.request.get(`${base}/archive/`)).text();
  const paperPath = listed.match(/href="(\/papers\/[a-z0-9-]+\/)"/)[1];
  const reader = await browser.newContext();
  const readerPage = await reader.newPage();
  await readerPage.goto(base + paperPath);
  const text = `Held for the admin ${stamp}.`;
  await readerPage.fill("#comment", text);
  await readerPage.fill("#author", "Rita Reader");
  await readerPage.fill("#email", `rita-${stamp}@example.org`);
  await Promise.all([readerPage.waitForURL(/#comment-\d+$/), readerPage.click(".comment-form button[type=submit]")]);
  const id = readerPage.url().match(/#comment-(\d+)$/)[1];
  await reader.close();
  await page.goto(`${base}/admin/`);
  const badge = await page.locator(".admin-nav .admin-count").count();
  if (badge === 0) fail("no count of waiting comments in the navigation");
  await page.goto(`${base}/admin/comments`);
  await remember("signed in: comments");
  await shoot("comments");
  if (!(await page.locator(`#comment-${id}`).innerText()).includes(text)) fail("the held comment is not in the queue");
  await Promise.all([page.waitForURL(/done=1/), page.click(`#comment-${id} button[value="${id}:approve"]`)]);
  let shown = false;
  for (let i = 0; i < 50 && !shown; i++) {
    shown = (await (await page.request.get(base + paperPath)).text()).includes(text);
    if (!shown) await new Promise((r) => setTimeout(r, 100));
  }
  if (!shown) fail("the comment approved in the admin does not appear on the paper");
  console.log(`moderated comment ${id} from the queue; it appears on ${paperPath}`);
}
await page.goto(`${base}/admin/audit`);
if (!(await page.locator("main").innerText()).includes("user.add")) fail("the audit log does not show the accounts added");
await remember("signed in: audit log");
await page.goto(`${base}/admin/account`);
await remember("signed in: your account");
await page.click("text=Turn on two-step verification");
await page.waitForURL(/\/admin\/account\/two-step$/);
await remember("signed in: two-step key");
await shoot("two-step");
const key = await page.locator(".admin-key").innerText();
await page.fill("#enrol-code", totp(key));
await page.click("form[action='/admin/account/two-step'] button");
await page.waitForSelector(".admin-codes");
const recovery = await page.locator(".admin-codes code").allInnerTexts();
if (recovery.length !== 10) fail(`${recovery.length} recovery codes shown, not 10`);
console.log("invited an editor; turned two-step verification on with an app's code");

// --- 3. Out, and in again with the keyboard alone ------------------------------
await Promise.all([page.waitForURL(/\/admin\/login\?out=1$/), page.click(".admin-account button")]);
if (!(await page.locator("main").innerText()).includes("You are signed out")) fail("signing out does not say so");
await remember("sign in");
await shoot("sign-in");
await page.focus("#login-email");
await page.keyboard.type(email);
await page.keyboard.press("Tab");
await page.keyboard.type(password);
await Promise.all([page.waitForURL(/\/admin\/login\/code/), page.keyboard.press("Enter")]);
await remember("two-step code");
await page.focus("#login-code");
await page.keyboard.type(recovery[0]);
await Promise.all([page.waitForURL(/\/admin\/$/), page.keyboard.press("Enter")]);
if (!(await page.locator("main").innerText()).includes("Ada Admin")) fail("signing in by keyboard with a recovery code failed");
console.log("signed out, then in by keyboard through the second step");
await page.goto(`${base}/admin/forgot`);
await remember("forgotten password");

// --- 4. Every screen: Nu, axe, Tab, 320 px -------------------------------------
const htmlDir = join(artifacts, "html");
mkdirSync(htmlDir, { recursive: true });
const files = screens.map((s) => {
  const file = join(htmlDir, s.name.replace(/[^a-z0-9]+/gi, "-") + ".html");
  writeFileSync(file, s.html);
  return [s.name, file];
});
let report;
try {
  report = JSON.parse(
    execFileSync("java", ["-jar", require("vnu-jar"), "--format", "json", "--stdout", ...files.map((f) => f[1])], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    }),
  );
} catch (e) {
  report = JSON.parse(e.stdout);
}
console.log("\nNu HTML Checker (vnu.jar), admin screens");
for (const [name, file] of files) {
  const errors = report.messages.filter(
    (m) => m.url && m.url.endsWith(file.split("/").pop()) && (m.type === "error" || m.subType === "fatal"),
  );
  console.log(`  ${name.padEnd(26)} ${errors.length} errors`);
  for (const m of errors) fail(`vnu ${name} line ${m.lastLine}: ${m.message} (${(m.extract || "").trim()})`);
}

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
console.log(`\naxe-core (${tags.join(", ")}), keyboard and 320 px, admin screens`);
const storage = await context.storageState();
for (const scheme of ["light", "dark"]) {
  // Signed in as the same account; bypassCSP lets the checker's script run.
  const checker = await browser.newContext({ colorScheme: scheme, bypassCSP: true, storageState: storage });
  const anonymous = await browser.newContext({ colorScheme: scheme, bypassCSP: true });
  for (const s of screens) {
    if (s.name === "set password" || s.name === "two-step code") {
      // Used up or gone by now: the HTML as it was served, at its own
      // address (so that its stylesheet loads as from the site).
      const p = await anonymous.newPage();
      await p.route(base + s.path, (route) => route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: s.html }));
      await p.goto(base + s.path, { waitUntil: "load" });
      await axe(p, scheme, s.name);
      await p.close();
      continue;
    }
    const p = await (s.signedIn ? checker : anonymous).newPage();
    const res = await p.goto(base + s.path, { waitUntil: "load" });
    if (!res.ok()) fail(`${s.name} ${s.path}: HTTP ${res.status()}`);
    await axe(p, scheme, s.name);
    if (scheme === "light") {
      await keyboard(p, s.name);
      await p.setViewportSize({ width: 320, height: 800 });
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (overflow > 0) fail(`${s.name} scrolls sideways by ${overflow}px at 320px wide`);
    }
    await p.close();
  }
  await checker.close();
  await anonymous.close();
}

async function axe(p, scheme, name) {
  await p.evaluate(axeSource);
  const result = await p.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] }),
    tags,
  );
  console.log(`  ${scheme.padEnd(5)} ${name.padEnd(26)} ${result.violations.length} violations`);
  for (const v of result.violations) {
    fail(`axe ${scheme} ${name}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ")}`);
  }
}

// Every link, button and field the page shows is reached with Tab.
async function keyboard(p, name) {
  const wanted = await p.evaluate(() => {
    const all = [...document.querySelectorAll("a[href], button, input, select, textarea, summary")];
    return all
      .filter((e) => e.type !== "hidden" && !e.hidden && e.getClientRects().length > 0 && !e.closest("[hidden]"))
      .map((e, i) => (e.dataset.tabProbe = String(i)));
  });
  const reached = new Set();
  for (let i = 0; i < wanted.length * 2 + 5; i++) {
    await p.keyboard.press("Tab");
    const probe = await p.evaluate(() => document.activeElement?.dataset?.tabProbe);
    if (probe !== undefined) reached.add(probe);
  }
  const missed = wanted.filter((w) => !reached.has(w));
  if (missed.length) fail(`${name}: ${missed.length} of ${wanted.length} controls are not reached with Tab`);
}

await browser.close();
console.log(`\nscreenshots in ${artifacts}: ${shots.join(", ")}`);
if (failures) {
  console.log(`\n${failures} admin check(s) failed`);
  process.exit(1);
}
console.log("\nadmin: every check passed");
