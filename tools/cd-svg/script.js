"use strict";
var CD = {};
function cdAttr(g, k) { return g.getAttribute("data-" + k); }
function cdInit() {
	var g = document.getElementById("frames"), kids = g.children, stack = [], i;
	CD.fh = +cdAttr(g, "fh"); CD.inv = cdAttr(g, "inv") === "1";
	CD.base = +cdAttr(g, "base"); CD.W = +cdAttr(g, "w"); CD.pad = +cdAttr(g, "pad");
	CD.fs = +cdAttr(g, "fs"); CD.cname = cdAttr(g, "cname");
	CD.details = document.getElementById("details");
	CD.matched = document.getElementById("matched");
	CD.reset = document.getElementById("reset");
	CD.search = document.getElementById("search");
	CD.frames = [];
	CD.zoomed = null;
	for (i = 0; i < kids.length; i++) {
		var e = kids[i], r = e.querySelector("rect"), title = e.querySelector("title").textContent;
		var k = title.lastIndexOf(" ("), m = /^\((\d+)/.exec(title.slice(k + 1));
		var y = +r.getAttribute("y");
		var f = { g: e, r: r, t: e.querySelector("text"), title: title,
			name: title.slice(0, k), ns: m ? m[1] : "0", n: m ? +m[1] : 0,
			x: +r.getAttribute("x"), w: +r.getAttribute("width"), y: y,
			d: Math.round((CD.inv ? y - CD.base : CD.base - y) / CD.fh),
			i: i, end: i + 1, fill: r.getAttribute("fill"), parent: null };
		while (stack.length && stack[stack.length - 1].d >= f.d) stack.pop();
		if (stack.length) f.parent = stack[stack.length - 1];
		stack.push(f);
		e.cdIndex = i;
		CD.frames.push(f);
	}
	for (i = CD.frames.length - 1; i >= 0; i--) {
		var p = CD.frames[i].parent;
		if (p && CD.frames[i].end > p.end) p.end = CD.frames[i].end;
	}
	CD.total = CD.frames.length ? CD.frames[0].n : 0;
	g.addEventListener("mouseover", function (ev) {
		var f = cdFrame(ev.target);
		if (f) CD.details.textContent = f.title;
	});
	g.addEventListener("mouseout", function () { CD.details.textContent = " "; });
	g.addEventListener("click", function (ev) {
		var f = cdFrame(ev.target);
		if (f) cdZoom(f);
	});
	CD.reset.addEventListener("click", cdUnzoom);
	CD.search.addEventListener("input", function () { cdSearch(CD.search.value); });
	document.addEventListener("keydown", function (ev) {
		if ((ev.ctrlKey || ev.metaKey) && ev.key === "f") {
			ev.preventDefault();
			CD.search.focus();
		} else if (ev.key === "Escape") {
			CD.search.value = "";
			cdSearch("");
			cdUnzoom();
		}
	});
}
function cdFrame(el) {
	while (el && el.parentNode && el.parentNode.id !== "frames") el = el.parentNode;
	return el && el.cdIndex !== undefined ? CD.frames[el.cdIndex] : null;
}
function cdLabel(f, x, w) {
	var fit = Math.floor((w - 6) / (CD.fs * 0.59)), s = "", chars = Array.from(f.name);
	if (fit >= 3) s = chars.length <= fit ? f.name : chars.slice(0, fit - 2).join("") + "..";
	if (!f.t) {
		if (!s) return;
		f.t = document.createElementNS("http://www.w3.org/2000/svg", "text");
		f.t.setAttribute("y", f.y + CD.fh - 5);
		f.g.appendChild(f.t);
	}
	f.t.setAttribute("x", (x + 3).toFixed(1));
	f.t.textContent = s;
}
function cdPlace(f, x, w) {
	f.r.setAttribute("x", x.toFixed(1));
	f.r.setAttribute("width", w.toFixed(1));
	cdLabel(f, x, w);
}
function cdZoom(z) {
	var scale = (CD.W - 2 * CD.pad) / z.w, i;
	CD.zoomed = z;
	for (i = 0; i < CD.frames.length; i++) {
		var f = CD.frames[i];
		if (f === z || (z.i > f.i && z.i < f.end)) {
			f.g.style.display = "";
			f.g.setAttribute("class", f === z ? "" : "anc");
			cdPlace(f, CD.pad, CD.W - 2 * CD.pad);
		} else if (f.i > z.i && f.i < z.end) {
			f.g.style.display = "";
			f.g.setAttribute("class", "");
			cdPlace(f, CD.pad + (f.x - z.x) * scale, f.w * scale);
		} else {
			f.g.style.display = "none";
		}
	}
	CD.reset.style.display = "inline";
}
function cdUnzoom() {
	CD.zoomed = null;
	for (var i = 0; i < CD.frames.length; i++) {
		var f = CD.frames[i];
		f.g.style.display = "";
		f.g.setAttribute("class", "");
		cdPlace(f, f.x, f.w);
	}
	CD.reset.style.display = "none";
}
function cdSearch(v) {
	var re = null, i, sum = 0, until = 0;
	if (v) {
		try { re = new RegExp(v); } catch (e) { CD.matched.textContent = "invalid regular expression"; return; }
	}
	for (i = 0; i < CD.frames.length; i++) {
		var f = CD.frames[i], hit = re !== null && re.test(f.name);
		f.r.setAttribute("fill", hit ? "#e040e0" : f.fill);
		f.hit = hit;
		if (hit && i >= until) { sum += f.n; until = f.end; }
	}
	if (!re) { CD.matched.textContent = " "; return; }
	var pct = CD.total ? 100 * sum / CD.total : 0;
	CD.matched.textContent = "Matched: " + pct.toFixed(2) + "% (" + sum + " of " + CD.total + " " + CD.cname + ")";
}
