// The trainer's dashboard, kept up to date from the server's event stream.
// Without JavaScript the page still works: "Actualiser" reloads it.
(function () {
  "use strict";
  var table = document.getElementById("tableau-participants");
  if (!table || !window.EventSource) { return; }
  var body = table.tBodies[0];
  var status = document.getElementById("etat-flux");
  var heat = document.getElementById("carte-etapes");
  var last = null;

  function cell(row, text, header) {
    var c = document.createElement(header ? "th" : "td");
    if (header) { c.setAttribute("scope", "row"); }
    c.textContent = text;
    row.appendChild(c);
    return c;
  }

  function minutes(since) {
    return Math.max(0, Math.floor((Date.now() / 1000 - since) / 60)) + " min";
  }

  function render(data) {
    last = data;
    var learners = data.snapshot.learners;
    while (body.firstChild) { body.removeChild(body.firstChild); }
    if (learners.length === 0) {
      var empty = document.createElement("tr");
      var c = cell(empty, "Personne n'a encore rejoint l'atelier.");
      c.setAttribute("colspan", "8");
      body.appendChild(empty);
    }
    learners.forEach(function (l) {
      var row = document.createElement("tr");
      cell(row, l.pseudonym, true);
      cell(row, data.titles[l.scenario] || l.scenario);
      cell(row, (l.step_number ? "Étape " + l.step_number + " sur " + l.steps_total + " : " : "") + l.step_title);
      cell(row, minutes(l.since));
      cell(row, String(l.errors_here));
      cell(row, String(l.errors_total));
      cell(row, l.finished ? "Oui" : "Non");
      var action = document.createElement("td");
      var form = document.createElement("form");
      form.method = "post";
      form.action = l.reset;
      form.className = "inline-form";
      var button = document.createElement("button");
      button.type = "submit";
      button.className = "link-button";
      button.textContent = "Remettre à zéro";
      var hidden = document.createElement("span");
      hidden.className = "sr-only";
      hidden.textContent = " : " + l.pseudonym;
      button.appendChild(hidden);
      form.appendChild(button);
      action.appendChild(form);
      row.appendChild(action);
      body.appendChild(row);
    });
    var count = learners.length;
    status.textContent = count + " participant" + (count > 1 ? "s" : "") + ", dont " + data.snapshot.finished +
      (data.snapshot.finished > 1 ? " ont" : " a") + " terminé. Mis à jour en direct.";
    data.heat.forEach(function (h) {
      var item = heat.querySelector('[data-step="' + h.scenario + ":" + h.step + '"]');
      if (!item) { return; }
      var meter = item.querySelector("meter");
      meter.max = Math.max(count, 1);
      meter.value = h.here;
      meter.textContent = String(h.here);
      item.querySelector(".heat-figures").textContent = h.here + " ici · " + h.errors + " erreur" + (h.errors > 1 ? "s" : "");
    });
  }

  var source = new EventSource(table.getAttribute("data-flux"));
  source.addEventListener("etat", function (e) { render(JSON.parse(e.data)); });
  source.addEventListener("fin", function () {
    status.textContent = "L'atelier est clos.";
    source.close();
  });
  window.setInterval(function () { if (last) { render(last); } }, 30000);
}());
