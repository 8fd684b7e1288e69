// The interactive part of report.html: sorting and filtering the ranked
// networks table, and the search box. It reads the page's own search index
// (the JSON blob `hydra-index`), builds every piece of text with
// textContent (account and indicator names are attacker-controlled), keys
// every lookup by a Map (a name like "__proto__" is just a name), and never
// loads anything. `#selftest=OP&OP...` drives the same controls a reader
// would and writes what the page then shows into a `pre` element, `selftest`.
(function () {
  "use strict";
  var doc = document;
  var idx = JSON.parse(doc.getElementById("hydra-index").textContent);
  var table = doc.getElementById("networks");
  var tbody = table ? table.tBodies[0] : null;
  var rows = tbody ? Array.prototype.slice.call(tbody.rows) : [];
  var heads = table ? Array.prototype.slice.call(table.tHead.rows[0].cells) : [];
  var rowById = new Map();
  rows.forEach(function (r) { rowById.set(r.getAttribute("data-id"), r); });

  // Sorting: numbers numerically (missing values last), text by code
  // points, ties in rank order; a second click on a column reverses it.
  var sortCol = 0;
  var sortDir = 1;
  function cellKey(row, col, numeric) {
    var cell = row.cells[col];
    if (!numeric) { return cell.textContent; }
    var v = cell.getAttribute("data-v");
    return v === null || v === "" ? null : Number(v);
  }
  function sortBy(col) {
    var numeric = heads[col].getAttribute("data-type") === "num";
    if (col === sortCol) {
      sortDir = -sortDir;
    } else {
      sortCol = col;
      sortDir = numeric && col !== 0 ? -1 : 1;
    }
    var keyed = rows.map(function (r) {
      return [cellKey(r, col, numeric), Number(r.getAttribute("data-rank")), r];
    });
    keyed.sort(function (a, b) {
      var c = 0;
      if (a[0] === null || b[0] === null) {
        c = a[0] === null ? (b[0] === null ? 0 : 1) : -1;
        return c !== 0 ? c : a[1] - b[1];
      }
      if (numeric) { c = a[0] - b[0]; } else { c = a[0] < b[0] ? -1 : (a[0] > b[0] ? 1 : 0); }
      return c !== 0 ? c * sortDir : a[1] - b[1];
    });
    keyed.forEach(function (k) { tbody.appendChild(k[2]); });
    heads.forEach(function (h, i) {
      if (i === col) {
        h.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      } else {
        h.removeAttribute("aria-sort");
      }
    });
  }
  heads.forEach(function (h, i) {
    var button = h.querySelector("button");
    if (button) { button.addEventListener("click", function () { sortBy(i); }); }
  });

  // What the text filter and the search look through, per network.
  var netIndex = new Map();
  idx.n.forEach(function (n, k) { netIndex.set(n.id, k); });
  var haystacks = new Map();
  function haystack(id) {
    var text = haystacks.get(id);
    if (text === undefined) {
      var k = netIndex.get(id);
      var parts = [id];
      if (k !== undefined) {
        parts = parts.concat(idx.n[k].m, idx.n[k].i.map(function (v) { return idx.v[v][1]; }));
      }
      text = parts.join("\n").toLowerCase();
      haystacks.set(id, text);
    }
    return text;
  }

  // Filtering: minimum score, members, and text in the network's id,
  // indexed accounts or indicators. Rows the search highlighted stay shown.
  var fMin = doc.getElementById("f-min");
  var fFlag = doc.getElementById("f-flag");
  var fText = doc.getElementById("f-text");
  var fCount = doc.getElementById("f-count");
  function applyFilter() {
    if (!table) { return; }
    var min = parseFloat(fMin.value);
    if (isNaN(min)) { min = 0; }
    var flag = fFlag.value;
    var text = fText.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (r) {
      var repl = Number(r.getAttribute("data-replacement"));
      var banned = Number(r.getAttribute("data-banned"));
      var ok = Number(r.getAttribute("data-score")) >= min &&
        (flag === "" || (flag === "replacement" && repl > 0) ||
          (flag === "banned" && banned > 0) || (flag === "unbanned" && banned === 0)) &&
        (text === "" || haystack(r.getAttribute("data-id")).indexOf(text) >= 0);
      ok = ok || r.classList.contains("hit");
      r.hidden = !ok;
      if (ok) { shown += 1; }
    });
    fCount.textContent = shown + " of " + rows.length + " networks shown";
  }
  if (table) {
    fMin.addEventListener("input", applyFilter);
    fFlag.addEventListener("change", applyFilter);
    fText.addEventListener("input", applyFilter);
  }

  // Search: an account or an indicator value, exactly; failing that, any
  // that contain the text (case-insensitive), at most LISTED of them.
  var LISTED = 50;
  var accounts = new Map();
  var values = new Map();
  function add(map, key, hit) {
    var list = map.get(key);
    if (list === undefined) { list = []; map.set(key, list); }
    list.push(hit);
  }
  var unindexed = 0;
  function addValue(v, hit) {
    hit.kind = idx.k[idx.v[v][0]];
    add(values, idx.v[v][1], hit);
  }
  function replacementHref(j) { return j < idx.rows ? "replacement-" + (j + 1) : ""; }
  idx.n.forEach(function (n, k) {
    n.m.forEach(function (a) { add(accounts, a, { net: k }); });
    n.i.forEach(function (v) { addValue(v, { net: k }); });
    unindexed += n.more;
  });
  idx.r.forEach(function (r, j) {
    add(accounts, r[0], { rep: j });
    r[1].forEach(function (v) { addValue(v, { rep: j }); });
  });
  var form = doc.getElementById("find");
  var query = doc.getElementById("find-q");
  var status = doc.getElementById("find-status");
  var results = doc.getElementById("find-results");

  function matches(q) {
    var found = [];
    function take(map, what, exact) {
      map.forEach(function (hits, key) {
        if (exact ? key === q : key.toLowerCase().indexOf(q.toLowerCase()) >= 0) {
          hits.forEach(function (h) { found.push({ key: key, what: what, hit: h }); });
        }
      });
    }
    take(accounts, "account", true);
    take(values, "indicator", true);
    var exact = found.length > 0;
    if (!exact) {
      take(accounts, "account", false);
      take(values, "indicator", false);
    }
    return { exact: exact, found: found };
  }
  function describe(m) {
    var h = m.hit;
    var what = m.what === "account" ? "account" : h.kind;
    if (h.net !== undefined) {
      var n = idx.n[h.net];
      return { text: what + " " + m.key + ": network #" + n.rank + " " + n.id +
        (n.href ? "" : " (not listed on this page; see clusters.json)"), href: n.href };
    }
    var href = replacementHref(h.rep);
    return { text: what + " " + m.key + ": replacement account " + idx.r[h.rep][0] +
      (href ? "" : " (not listed on this page; see clusters.json)"), href: href };
  }
  function highlight(m) {
    var h = m.hit;
    var ids = [];
    if (h.net !== undefined) {
      var n = idx.n[h.net];
      var row = rowById.get(n.id);
      if (row) { ids.push(row.id); }
      if (n.href) { ids.push(n.href); }
    } else if (replacementHref(h.rep)) {
      ids.push(replacementHref(h.rep));
    }
    ids.forEach(function (id) {
      var el = doc.getElementById(id);
      if (el) { el.classList.add("hit"); }
    });
  }
  function find(raw) {
    Array.prototype.slice.call(doc.querySelectorAll(".hit")).forEach(function (el) {
      el.classList.remove("hit");
    });
    while (results.firstChild) { results.removeChild(results.firstChild); }
    var q = raw.trim();
    if (q === "") {
      status.textContent = "Type an account or an indicator value.";
      applyFilter();
      return;
    }
    var got = matches(q);
    if (got.found.length === 0) {
      status.textContent = "Nothing matches \u201c" + q + "\u201d." + (unindexed > 0
        ? " Unflagged members beyond the first ones of each network are not indexed: see accounts.csv."
        : "");
      applyFilter();
      return;
    }
    var listed = got.found.slice(0, LISTED);
    status.textContent = got.found.length + (got.found.length === 1 ? " match" : " matches") +
      (got.exact ? " for \u201c" : " containing \u201c") + q + "\u201d" +
      (got.found.length > LISTED ? ", the first " + LISTED + " listed" : "") + ".";
    var first = null;
    listed.forEach(function (m) {
      var d = describe(m);
      var li = doc.createElement("li");
      if (d.href) {
        var a = doc.createElement("a");
        a.href = "#" + d.href;
        a.textContent = d.text;
        li.appendChild(a);
        if (first === null) { first = d.href; }
      } else {
        li.textContent = d.text;
      }
      results.appendChild(li);
      highlight(m);
    });
    applyFilter();
    if (first !== null) {
      if (location.hash === "#" + first) {
        doc.getElementById(first).scrollIntoView();
      } else {
        location.hash = first;
      }
    }
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    find(query.value);
  });
  applyFilter();

  // The self-test: `#selftest=sort:2&find:a-3&min:0.8&flag:banned&text:c-a`
  // runs each step through the controls and records what is shown after it.
  var test = /^#selftest=(.*)$/.exec(location.hash);
  if (test) {
    var log = [];
    var state = function (step) {
      var shownRows = tbody ? Array.prototype.slice.call(tbody.rows) : [];
      var visible = shownRows.filter(function (r) { return !r.hidden; })
        .map(function (r) { return r.getAttribute("data-id"); });
      var sorted = heads.map(function (h, i) {
        return h.hasAttribute("aria-sort") ? i + ":" + h.getAttribute("aria-sort") : "";
      }).filter(function (s) { return s !== ""; });
      var hits = Array.prototype.slice.call(doc.querySelectorAll(".hit"))
        .map(function (el) { return el.id; });
      var listed = Array.prototype.slice.call(results.querySelectorAll("li a"))
        .map(function (a) { return a.getAttribute("href"); });
      log.push(["step=" + step, "rows=" + visible.join(","), "sort=" + sorted.join(","),
        "shown=" + (fCount ? fCount.textContent : ""), "status=" + status.textContent,
        "hits=" + hits.join(","), "links=" + listed.join(","), "hash=" + location.hash
      ].join(" | "));
    };
    try {
      test[1].split("&").forEach(function (part) {
        var colon = part.indexOf(":");
        var op = colon < 0 ? part : part.slice(0, colon);
        var arg = colon < 0 ? "" : decodeURIComponent(part.slice(colon + 1));
        if (op === "sort") {
          heads[Number(arg)].querySelector("button").click();
        } else if (op === "min" || op === "text") {
          var input = op === "min" ? fMin : fText;
          input.value = arg;
          input.dispatchEvent(new Event("input", { bubbles: true }));
        } else if (op === "flag") {
          fFlag.value = arg;
          fFlag.dispatchEvent(new Event("change", { bubbles: true }));
        } else if (op === "find") {
          query.value = arg;
          form.requestSubmit();
        } else {
          throw new Error("unknown self-test step " + op);
        }
        state(part);
      });
    } catch (e) {
      log.push("error=" + e);
    }
    var pre = doc.createElement("pre");
    pre.id = "selftest";
    pre.textContent = log.join("\n");
    doc.body.appendChild(pre);
  }
})();
