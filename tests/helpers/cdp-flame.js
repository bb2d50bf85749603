#!/usr/bin/env node
// Drive a flame graph SVG in headless Chromium over the DevTools protocol
// (--remote-debugging-pipe: JSON messages, NUL-terminated, on fds 3 and 4)
// with real mouse clicks and key presses, and print what happened as JSON.
//
// usage: cdp-flame.js CHROMIUM SVG FRAME_NAME SEARCH_TEXT
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const [chrome, svg, frameName, searchText] = process.argv.slice(2);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "cd-chromium-"));
const proc = spawn(chrome, [
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--no-first-run", "--disable-component-update", "--disable-sync",
	"--user-data-dir=" + profile, "--remote-debugging-pipe",
	"--window-size=1400,1000", "about:blank",
], { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] });

const out = proc.stdio[3], inp = proc.stdio[4];
let buf = "", nextId = 1;
const pending = new Map(), waiters = [];

inp.on("data", (d) => {
	buf += d.toString("utf8");
	let z;
	while ((z = buf.indexOf("\0")) >= 0) {
		const msg = JSON.parse(buf.slice(0, z));
		buf = buf.slice(z + 1);
		if (msg.id && pending.has(msg.id)) {
			const { resolve, reject } = pending.get(msg.id);
			pending.delete(msg.id);
			if (msg.error) reject(new Error(JSON.stringify(msg.error)));
			else resolve(msg.result);
		} else if (msg.method) {
			for (const w of waiters.slice())
				if (w.method === msg.method) {
					waiters.splice(waiters.indexOf(w), 1);
					w.resolve(msg.params);
				}
		}
	}
});

function send(method, params = {}, sessionId) {
	const id = nextId++;
	const msg = { id, method, params };
	if (sessionId) msg.sessionId = sessionId;
	out.write(JSON.stringify(msg) + "\0");
	return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
function once(method) {
	return new Promise((resolve) => waiters.push({ method, resolve }));
}

function finish(code, result) {
	if (result) process.stdout.write(JSON.stringify(result) + "\n");
	const done = () => {
		// Chromium's helpers may still be writing the profile: retry.
		try { fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }); }
		catch (e) { process.stderr.write("cdp-flame: left " + profile + ": " + e.message + "\n"); }
		process.exit(code);
	};
	if (proc.exitCode !== null || proc.signalCode !== null) return done();
	proc.once("exit", () => setTimeout(done, 200));
	try { proc.kill("SIGKILL"); } catch (e) { done(); }
}
setTimeout(() => { process.stderr.write("cdp-flame: timed out\n"); finish(3); }, 60000);
proc.on("error", (e) => { process.stderr.write("cdp-flame: " + e.message + "\n"); finish(3); });

(async () => {
	const { targetInfos } = await send("Target.getTargets");
	const page = targetInfos.find((t) => t.type === "page");
	const { sessionId } = await send("Target.attachToTarget", { targetId: page.targetId, flatten: true });
	const s = (m, p) => send(m, p, sessionId);
	const evaluate = async (expr) => (await s("Runtime.evaluate", { expression: expr, returnByValue: true })).result.value;
	await s("Page.enable");
	const loaded = once("Page.loadEventFired");
	await s("Page.navigate", { url: "file://" + path.resolve(svg) });
	await loaded;
	const click = async (x, y) => {
		await s("Input.dispatchMouseEvent", { type: "mouseMoved", x, y });
		await s("Input.dispatchMouseEvent", { type: "mousePressed", x, y, button: "left", clickCount: 1 });
		await s("Input.dispatchMouseEvent", { type: "mouseReleased", x, y, button: "left", clickCount: 1 });
	};
	const centre = async (sel) => evaluate(`(function(){var e=${sel}; if(!e) return null;
		var r=e.getBoundingClientRect(); return {x:r.left+r.width/2, y:r.top+r.height/2};})()`);
	const frameSel = `Array.from(document.querySelectorAll('#frames g')).find(function(g){
		return g.querySelector('title').textContent.lastIndexOf(${JSON.stringify(frameName)} + ' (', 0) === 0;}).querySelector('rect')`;
	const state = () => evaluate(`(function(){
		var r=${frameSel};
		var shown=Array.from(document.querySelectorAll('#frames g')).filter(function(g){return g.style.display!=='none';}).length;
		return {width:+r.getAttribute('width'), x:+r.getAttribute('x'), shown:shown,
			total:document.querySelectorAll('#frames g').length,
			reset:getComputedStyle(document.getElementById('reset')).display,
			details:document.getElementById('details').textContent,
			matched:document.getElementById('matched').textContent,
			highlighted:Array.from(document.querySelectorAll('#frames rect')).filter(function(r){return r.getAttribute('fill')==='#e040e0';}).length,
			alerted:!!window.__alerted, title:document.getElementById('title').textContent};})()`);
	await evaluate("window.alert=function(){window.__alerted=true;}; 1");

	const result = { before: await state() };
	const c = await centre(frameSel);
	await s("Input.dispatchMouseEvent", { type: "mouseMoved", x: c.x, y: c.y });
	result.hover = await state();
	await click(c.x, c.y);
	result.zoomed = await state();
	const rc = await centre("document.getElementById('reset')");
	await click(rc.x, rc.y);
	result.reset = await state();
	const sc = await centre("document.getElementById('search')");
	await click(sc.x, sc.y);
	for (const ch of searchText) {
		await s("Input.dispatchKeyEvent", { type: "keyDown", text: ch, key: ch, unmodifiedText: ch });
		await s("Input.dispatchKeyEvent", { type: "keyUp", key: ch });
	}
	result.searched = await state();
	await s("Input.dispatchKeyEvent", { type: "keyDown", key: "Escape", code: "Escape", windowsVirtualKeyCode: 27 });
	await s("Input.dispatchKeyEvent", { type: "keyUp", key: "Escape", code: "Escape", windowsVirtualKeyCode: 27 });
	result.cleared = await state();
	finish(0, result);
})().catch((e) => { process.stderr.write("cdp-flame: " + e.stack + "\n"); finish(3); });
