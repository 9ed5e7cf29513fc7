package console

import "math"

// The report charts are ECharts options built here and drawn by console.js,
// so a page's chart and its table come from the same rows. Percentages are
// sent in percent (12.5, not 0.125) rounded to a tenth, as the table shows
// them; a missing figure is null, which ECharts leaves as a gap.

// series is one line or bar series.
type series struct {
	Name string
	// Kind is "line" or "bar".
	Kind string
	Data []any
	// Right puts the series on the right-hand axis (rates, scores).
	Right bool
	// Stack stacks bars of the same stack.
	Stack string
}

// overTime is a chart of series over the categories x (periods, steps,
// groups): counts on the left axis, the Right series (rates, scores) on
// the right one, its labels ending in unit ("%" or "").
func overTime(x []string, unit string, ss ...series) map[string]any {
	var out []map[string]any
	names := []string{}
	right := 0
	for _, s := range ss {
		m := map[string]any{"name": s.Name, "type": s.Kind, "data": s.Data}
		if s.Right {
			m["yAxisIndex"] = 1
			right++
		}
		if s.Stack != "" {
			m["stack"] = s.Stack
		}
		if s.Kind == "line" {
			m["connectNulls"] = false
			m["symbolSize"] = 7
		}
		out = append(out, m)
		names = append(names, s.Name)
	}
	y := []map[string]any{{"type": "value", "minInterval": 1}}
	if right > 0 {
		y = append(y, map[string]any{"type": "value", "axisLabel": map[string]any{"formatter": "{value}" + unit}})
		if right == len(ss) {
			// Only rates: one axis, on the left.
			y = y[1:]
			for _, m := range out {
				delete(m, "yAxisIndex")
			}
		}
	}
	return map[string]any{
		"legend":  map[string]any{"top": 0, "data": names},
		"grid":    map[string]any{"left": 56, "right": 56, "top": 40, "bottom": 32},
		"tooltip": map[string]any{"trigger": "axis"},
		"xAxis":   map[string]any{"type": "category", "data": x},
		"yAxis":   y,
		"series":  out,
	}
}

// heatmap is a grid of values: x categories across, y down, each cell
// [x index, y index, value]; a nil value leaves the cell blank (a month
// not yet begun in the retention triangle).
func heatmap(name string, x, y []string, cells [][3]any, percent bool) map[string]any {
	hi := 0.0
	for _, c := range cells {
		if f, ok := c[2].(float64); ok {
			hi = math.Max(hi, f)
		}
	}
	if hi == 0 {
		hi = 1
	}
	label := map[string]any{"show": true}
	vm := map[string]any{"min": 0, "max": hi, "calculable": true, "orient": "horizontal", "left": "center", "bottom": 0,
		"inRange": map[string]any{"color": []string{"#f2f6fb", "#9cc3e6", "#2f6db5"}}}
	if percent {
		label["formatter"] = "{@[2]}%"
		vm["formatter"] = "{value}%"
	}
	return map[string]any{
		"tooltip":   map[string]any{"position": "top"},
		"grid":      map[string]any{"left": 80, "right": 24, "top": 16, "bottom": 72},
		"xAxis":     map[string]any{"type": "category", "data": x, "splitArea": map[string]any{"show": true}},
		"yAxis":     map[string]any{"type": "category", "data": y, "inverse": true, "splitArea": map[string]any{"show": true}},
		"visualMap": vm,
		"series":    []map[string]any{{"name": name, "type": "heatmap", "data": cells, "label": label}},
	}
}

// intervals is estimates with their 95% intervals as error bars: a point
// per category and a bar from low to high (a custom series console.js
// draws), on an axis in percentage points with zero marked.
func intervals(x []string, estimate, interval string, points, low, high []float64) map[string]any {
	est := make([]any, len(points))
	bars := make([]any, len(points))
	for i := range points {
		est[i] = round1(points[i])
		bars[i] = []any{i, round1(low[i]), round1(high[i])}
	}
	return map[string]any{
		"legend":  map[string]any{"top": 0, "data": []string{estimate, interval}},
		"grid":    map[string]any{"left": 56, "right": 24, "top": 40, "bottom": 32},
		"tooltip": map[string]any{"trigger": "item"},
		"xAxis":   map[string]any{"type": "category", "data": x},
		"yAxis":   map[string]any{"type": "value", "axisLabel": map[string]any{"formatter": "{value}"}},
		"series": []map[string]any{
			{"name": estimate, "type": "scatter", "data": est, "symbolSize": 12, "z": 3,
				"markLine": map[string]any{"silent": true, "symbol": "none", "data": []any{map[string]any{"yAxis": 0}},
					"lineStyle": map[string]any{"color": "#888", "type": "dashed"}, "label": map[string]any{"show": false}}},
			{"name": interval, "type": "custom", "renderItem": "errorbar", "data": bars, "z": 2,
				"encode": map[string]any{"x": 0, "y": []int{1, 2}}},
		},
	}
}

// inPercent is a ratio as a chart's percentage, nil kept nil.
func inPercent(f *float64) any {
	if f == nil {
		return nil
	}
	return round1(*f * 100)
}

// figureOf is a figure for a chart, nil kept nil, rounded to a tenth.
func figureOf(f *float64) any {
	if f == nil {
		return nil
	}
	return round1(*f)
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
