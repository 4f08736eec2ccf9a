/* The park map's city view: county outlines with their names, the county choropleth and its legend, one bubble per
   park (projects outside a park at their county seat), the park popup, and the projects shown only past DETAIL_ZOOM.
   maps/folium_map.py inlines this file into the map page (and the offline export); every text it is given is
   already escaped for HTML by the server. */
var sanmingLayers = (function () {
  var DETAIL_ZOOM = 11;
  var LABELLED = 6;  // the bubbles (largest first) whose label stays on the map; half as many on a phone
  var PALETTE = ['#eff3ff', '#bdd7e7', '#6baed6', '#3182bd', '#08519c'];
  var config = {stageColors: {}, stageLabels: {}, links: true};
  var counties = null;

  function money(v) { return v >= 10000 ? (v / 10000).toFixed(2) + ' 亿元' : Math.round(v).toLocaleString('zh-CN') + ' 万元'; }
  function percent(r) { return r === null || r === undefined ? '—' : (r * 100).toFixed(1) + '%'; }
  var MEASURES = {
    investment: {label: '总投资', value: function (p) { return p.total_investment; }, format: money},
    count: {label: '项目数', value: function (p) { return p.signed; }, format: function (n) { return n + ' 个'; } },
    start_rate: {label: '开工率', value: function (p) { return p.start_rate; }, format: percent, fixed: [0, 0.2, 0.4, 0.6, 0.8, 1]}
  };

  function breaks(measure) {
    if (measure.fixed) { return measure.fixed; }
    var top = 0;
    counties.features.forEach(function (f) { top = Math.max(top, measure.value(f.properties) || 0); });
    top = top || 1;
    return [0, top * 0.2, top * 0.4, top * 0.6, top * 0.8, top];
  }

  function classOf(value, edges) {
    for (var i = 1; i < edges.length - 1; i++) { if (value < edges[i]) { return i - 1; } }
    return edges.length - 2;
  }

  function figures(p) {
    return '<strong>' + p.name + '</strong><br>签约项目 ' + p.signed + ' 个 · 总投资 ' + money(p.total_investment)
      + '<br>开工率 ' + percent(p.start_rate) + ' · 投产率 ' + percent(p.production_rate);
  }

  function pane(map, name, zIndex) {
    if (!map.getPane(name)) { map.createPane(name).style.zIndex = zIndex; }
    return name;
  }

  /* The outlines (never in the way of a click) and every county's name, written at its seat. */
  function outlines(data, map) {
    counties = data;
    var group = L.featureGroup();
    var shapes = L.geoJSON(data, {pane: pane(map, 'sanmingOutlines', 390), interactive: false,
                                  style: function () { return {color: '#495057', weight: 1.5, fill: false}; } }).addTo(group);
    if (data.features.length) { map.fitBounds(shapes.getBounds(), {padding: [8, 8], animate: false}); }  // the city, not the box round it
    data.features.forEach(function (f) {
      L.marker([f.properties.label[1], f.properties.label[0]], {interactive: false, keyboard: false,
        icon: L.divIcon({className: 'sanming-county-label', html: f.properties.name, iconSize: null})}).addTo(group);
    });
    return group;
  }

  /* The counties filled by one measure, with a tooltip of all their figures; the legend follows the chosen one. */
  function choropleth(key, map) {
    var measure = MEASURES[key], edges = breaks(measure);
    var layer = L.geoJSON(counties, {
      pane: pane(map, 'sanmingChoropleth', 350),
      style: function (f) {
        var value = measure.value(f.properties);
        return {stroke: false, fillOpacity: 0.65,
                fillColor: value === null || value === undefined ? '#dee2e6' : PALETTE[classOf(value, edges)]};
      },
      onEachFeature: function (f, l) { l.bindTooltip(figures(f.properties), {sticky: true}); }
    });
    var rows = PALETTE.map(function (color, i) {
      return '<div><span class="sanming-swatch" style="background:' + color + '"></span>'
        + measure.format(edges[i]) + ' – ' + measure.format(edges[i + 1]) + '</div>';
    });
    layer.sanmingLegend = '<strong>按县着色：' + measure.label + '</strong>' + rows.join('')
      + (key === 'start_rate' ? '<div><span class="sanming-swatch" style="background:#dee2e6"></span>无合同项目</div>' : '');
    return layer;
  }

  function stageBars(byStage) {
    var top = 0, rows = [];
    Object.keys(byStage).forEach(function (stage) { top = Math.max(top, byStage[stage]); });
    Object.keys(byStage).forEach(function (stage) {
      rows.push('<tr><th class="pe-2">' + config.stageLabels[stage] + '</th><td><span class="sanming-bar" style="width:'
        + Math.max(2, Math.round(60 * byStage[stage] / top)) + 'px;background:' + config.stageColors[stage]
        + '"></span> ' + byStage[stage] + '</td></tr>');
    });
    return '<table class="sanming-stages">' + rows.join('') + '</table>';
  }

  /* A park's capacity lines (issue 16): free land, factory space and when they were confirmed, flagged past 90 days. */
  function capacityRows(c) {
    function row(label, value) { return '<tr><th class="pe-2">' + label + '</th><td>' + value + '</td></tr>'; }
    if (!c || !c.confirmed_on) { return [row('可供地', '未登记')]; }
    return [row('可供地', c.free_land), row('标准厂房', c.factory_space),
            row('容量核实', c.confirmed_on + (c.stale ? ' <span class="badge text-bg-warning">超过90天未核实</span>' : ''))];
  }

  /* The park popup: name, county, zone, projects by stage, total investment, open blockers, capacity, the park's
     page. */
  function parkPopup(b, map) {
    var div = L.DomUtil.create('div', 'sanming-popup sanming-park-popup');
    div.innerHTML = '<strong>' + b.name + '</strong>'
      + (b.misplaced ? ' <span class="sanming-warn">位置待核实</span>' : '')
      + '<table><tr><th class="pe-2">县区</th><td>' + b.county + '</td></tr>'
      + (b.zone ? '<tr><th class="pe-2">集聚区</th><td>' + b.zone + '</td></tr>' : '')
      + '<tr><th class="pe-2">项目数</th><td>' + b.count + ' 个</td></tr>'
      + '<tr><th class="pe-2">总投资</th><td>' + money(b.investment) + '</td></tr>'
      + '<tr><th class="pe-2">未解决问题</th><td>' + b.blockers + ' 个</td></tr>'
      + (b.id ? capacityRows(b.capacity).join('') : '') + '</table>'
      + stageBars(b.by_stage);
    var zoom = L.DomUtil.create('a', 'sanming-zoom', div);
    zoom.href = '#';
    zoom.textContent = '显示各项目';
    L.DomEvent.on(zoom, 'click', function (event) {
      L.DomEvent.preventDefault(event);
      map.setView([b.lat, b.lon], DETAIL_ZOOM);
    });
    if (config.links && b.id) {
      var link = L.DomUtil.create('a', 'ms-2', div);
      link.href = '/parks/' + b.id;
      link.target = '_top';
      link.textContent = '园区页面';
    }
    return div;
  }

  /* One bubble per park, sized by total investment, with its name, 项目数 and 总投资: written beside the largest
     LABELLED bubbles (more would cover each other at city zoom), shown on hover for the others. */
  function bubbles(list, map) {
    var group = L.featureGroup(), top = 1, labelled = map.getSize().x < 576 ? LABELLED / 2 : LABELLED;
    list.forEach(function (b) { top = Math.max(top, b.investment); });
    list.forEach(function (b, rank) {
      var marker = L.circleMarker([b.lat, b.lon], {
        radius: 8 + 22 * Math.sqrt(b.investment / top), weight: b.misplaced ? 2.5 : 1.5,
        color: b.misplaced ? '#dc3545' : '#ffffff', fillColor: b.id ? '#fd7e14' : '#6c757d', fillOpacity: 0.75});
      marker.bindTooltip(b.name + '<br>' + b.count + ' 个 · ' + money(b.investment),
                         {permanent: rank < labelled, direction: 'right', className: 'sanming-bubble-label'});
      marker.bindPopup(function () { return parkPopup(b, map); });
      marker.sanmingBubble = b;
      marker.addTo(group);
    });
    return group;
  }

  /* A stage's projects stay off the map at city zoom (the bubbles sum them) and appear past DETAIL_ZOOM. */
  function detail(layer, group, map) {
    function toggle() {
      if (map.getZoom() >= DETAIL_ZOOM) { group.addLayer(layer); } else { group.removeLayer(layer); }
    }
    map.on('zoomend', toggle);
    toggle();
  }

  /* The bubbles show at city zoom only; past DETAIL_ZOOM the projects take their place. */
  function cityOnly(layer, group, map) {
    function toggle() {
      if (map.getZoom() < DETAIL_ZOOM) { group.addLayer(layer); } else { group.removeLayer(layer); }
    }
    map.on('zoomend', toggle);
    toggle();
  }

  /* The legend folds behind a button on a phone; the choropleth's part follows the chosen base layer. */
  function legend(map, html) {
    var control = L.control({position: 'bottomright'});
    control.onAdd = function () {
      var div = L.DomUtil.create('div', 'sanming-legend');
      var button = L.DomUtil.create('button', 'sanming-legend-toggle', div);
      button.type = 'button';
      button.textContent = '图例';
      var body = L.DomUtil.create('div', 'sanming-legend-body', div);
      body.innerHTML = '<div class="sanming-choropleth-legend"></div>' + html;
      if (map.getSize().x < 576) { L.DomUtil.addClass(div, 'sanming-folded'); }
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.on(button, 'click', function () {
        if (L.DomUtil.hasClass(div, 'sanming-folded')) { L.DomUtil.removeClass(div, 'sanming-folded'); }
        else { L.DomUtil.addClass(div, 'sanming-folded'); }
      });
      map.on('baselayerchange', function (event) {
        var part = body.querySelector('.sanming-choropleth-legend');
        part.innerHTML = (event.layer.getLayers && event.layer.getLayers()[0] || {}).sanmingLegend || '';
      });
      return div;
    };
    control.addTo(map);
  }

  return {
    DETAIL_ZOOM: DETAIL_ZOOM,
    setup: function (options) { config = options; },
    outlines: outlines, choropleth: choropleth, bubbles: bubbles, parkPopup: parkPopup, capacityRows: capacityRows,
    detail: detail, cityOnly: cityOnly, legend: legend
  };
})();
