"use strict";
(function () {
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var PAGE = 100;
  var DIMS = ["team", "tier", "client_group", "option"];
  var shown = PAGE, sortKey = "case", sortDir = 1, rows = [];

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function caseId(f) { return D.cases[f[0]][0]; }
  function team(f) { return D.dims.team[D.cases[f[0]][1]]; }
  function text(f) { return f[5] || D.meta.titles[D.codes[f[1]]] || ""; }
  function key(f, k) {
    switch (k) {
      case "case": return caseId(f);
      case "code": return D.codes[f[1]];
      case "at": return f[2];
      case "stage": return D.stages[f[3]];
      case "sev": return f[4];
      case "team": return team(f);
      default: return text(f);
    }
  }
  function fill(id, values) {
    var s = document.getElementById(id);
    values.forEach(function (v) { var o = el("option", v[1]); o.value = v[0]; s.appendChild(o); });
    s.addEventListener("change", apply);
  }
  fill("f-code", D.codes.map(function (c, i) { return [String(i), c]; }));
  fill("f-sev", D.severities.map(function (c, i) { return [String(i), c]; }));
  fill("f-stage", D.stages.map(function (c, i) { return [String(i), c || "no stage"]; }));
  fill("f-team", D.dims.team.map(function (c, i) { return [String(i), c]; }));
  document.getElementById("f-text").addEventListener("input", apply);
  document.getElementById("f-more").addEventListener("click", function () { shown += PAGE * 5; draw(); });
  Array.prototype.forEach.call(document.querySelectorAll("#findings th"), function (th) {
    th.addEventListener("click", function () {
      var k = th.getAttribute("data-key");
      sortDir = (k === sortKey) ? -sortDir : 1;
      sortKey = k;
      Array.prototype.forEach.call(document.querySelectorAll("#findings th"), function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      apply();
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("a.code-link"), function (a) {
    a.addEventListener("click", function () {
      var i = D.codes.indexOf(a.getAttribute("data-code"));
      document.getElementById("f-code").value = i < 0 ? "" : String(i);
      apply();
    });
  });

  function apply() {
    var code = document.getElementById("f-code").value, sev = document.getElementById("f-sev").value;
    var stage = document.getElementById("f-stage").value, tm = document.getElementById("f-team").value;
    var q = document.getElementById("f-text").value.trim().toLowerCase();
    rows = D.findings.filter(function (f) {
      if (code && f[1] !== +code) return false;
      if (sev && f[4] !== +sev) return false;
      if (stage && f[3] !== +stage) return false;
      if (tm && D.cases[f[0]][1] !== +tm) return false;
      if (q && caseId(f).toLowerCase().indexOf(q) < 0 && text(f).toLowerCase().indexOf(q) < 0) return false;
      return true;
    });
    rows.sort(function (a, b) {
      var x = key(a, sortKey), y = key(b, sortKey);
      return (x < y ? -1 : x > y ? 1 : 0) * sortDir || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
    });
    shown = PAGE;
    draw();
  }

  function draw() {
    var body = document.querySelector("#findings tbody");
    body.textContent = "";
    rows.slice(0, shown).forEach(function (f) {
      var tr = el("tr");
      var td = el("td"), a = el("a", caseId(f), "case-link");
      a.href = "#case=" + encodeURIComponent(caseId(f));
      td.appendChild(a);
      tr.appendChild(td);
      tr.appendChild(el("td", D.codes[f[1]]));
      tr.appendChild(el("td", f[2]));
      tr.appendChild(el("td", D.stages[f[3]] || "—"));
      tr.appendChild(el("td", D.severities[f[4]], "sev-" + D.severities[f[4]]));
      tr.appendChild(el("td", team(f)));
      tr.appendChild(el("td", text(f)));
      body.appendChild(tr);
    });
    var more = rows.length - Math.min(shown, rows.length);
    var count = rows.length + " of " + D.findings.length + " findings listed";
    if (D.listed < total()) count += " (the report lists " + D.listed + " of " + total() + "; all are in the CSV export)";
    document.getElementById("f-count").textContent = count;
    var btn = document.getElementById("f-more");
    btn.hidden = more <= 0;
    btn.textContent = "show more (" + more + " not shown)";
  }
  function total() { return D.cases.reduce(function (s, c) { return s + c[5]; }, 0); }

  var caseIndex = null;
  function showCase(id) {
    if (caseIndex === null) {
      caseIndex = {};
      D.cases.forEach(function (c, i) { caseIndex[c[0]] = i; });
    }
    var ci = caseIndex[id];
    if (ci === undefined) return;
    var c = D.cases[ci], sec = document.getElementById("timeline");
    document.getElementById("t-case").textContent = id + " · " + DIMS.map(function (d, j) {
      return d.replace("_", " ") + " " + D.dims[d][c[j + 1]];
    }).join(" · ");
    var fs = D.findings.filter(function (f) { return f[0] === ci; });
    var marks = {};
    var box = document.getElementById("t-findings");
    box.textContent = "";
    fs.forEach(function (f) {
      var d = el("div", null, "tf");
      d.appendChild(el("strong", D.codes[f[1]] + " (" + f[2] + "): "));
      d.appendChild(document.createTextNode(text(f)));
      if (f[6] || f[7]) d.appendChild(el("div", "expected: " + f[6] + " · actual: " + f[7], "note"));
      box.appendChild(d);
      f[8].forEach(function (e) {
        (marks[e[0]] = marks[e[0]] || []).push(D.codes[f[1]] + (e[3] ? " " + e[3] : ""));
      });
    });
    var events = D.timelines[String(ci)];
    var note = "";
    if (!events) {
      var seen = {};
      events = [];
      fs.forEach(function (f) {
        f[8].forEach(function (e) {
          if (!seen[e[0]]) { seen[e[0]] = 1; events.push([e[0], e[1], e[2], "", "", "", ""]); }
        });
      });
      events.sort(function (a, b) { return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0; });
      note = "Only the evidence events of this case's findings are in this report.";
    }
    document.getElementById("t-note").textContent = note;
    var ol = document.getElementById("t-events");
    ol.textContent = "";
    events.forEach(function (e) {
      var li = el("li", null, marks[e[0]] ? "ev evidence" : "ev");
      li.setAttribute("data-event", e[0]);
      li.appendChild(el("span", e[1]));
      var what = el("span");
      what.appendChild(el("strong", e[2].replace(/_/g, " ")));
      if (e[3] || e[4]) what.appendChild(el("div", [e[4], e[3], e[5]].filter(Boolean).join(" · "), "note"));
      li.appendChild(what);
      var rest = el("span", e[6]);
      if (marks[e[0]]) rest.insertBefore(el("div", "evidence: " + marks[e[0]].join("; "), "role"), rest.firstChild);
      li.appendChild(rest);
      ol.appendChild(li);
    });
    sec.hidden = false;
    sec.scrollIntoView();
  }
  function route() {
    var m = /^#case=(.*)$/.exec(location.hash);
    if (m) showCase(decodeURIComponent(m[1]));
  }
  window.addEventListener("hashchange", route);
  window.sdsShowCase = showCase;
  apply();
  route();
})();
