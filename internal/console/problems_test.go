package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tidingsdev/tidings/internal/access"
)

// TestProblemsInTheReadersLanguage: what the management functions and the
// reports refuse reads in Chinese on every kind of page that shows it — a
// campaign file's problems in the editor (a nested duration check, and the
// parser's own words for what it found), a segment definition's, a report
// filter's and a settings form's — keeping the line and the values typed.
func TestProblemsInTheReadersLanguage(t *testing.T) {
	e := newConsole(t)
	e.user("mia@example.com", access.Marketer)
	e.user("root@example.com", access.Admin)

	cn := e.browser("zh-CN")
	e.signIn(cn, "mia@example.com")
	e.run(cn, chromedp.Navigate(e.url+"/console/campaigns/new"), chromedp.WaitVisible("#validate", chromedp.ByID),
		chromedp.SetValue("#source", "name: spring\naudience: {match: {tags: vip}}\ntrigger: {event: {type: signup}}\nsteps:\n  - wait: {duration: 3x}\n  - send: {id: hi, template: welcome}\n", chromedp.ByID))
	e.submit(cn, "#validate", "#problems")
	if got := e.text(cn, "#problems li"); !strings.Contains(got, "第 5 行") ||
		!strings.Contains(got, `"3x" 无效，时长应写成 30m、12h、3d、2w 或 6mo 这样（整数加上 s、m、h、d、w、mo、y 之一）`) {
		t.Errorf("zh-CN duration problem: %q", got)
	}
	e.run(cn, chromedp.SetValue("#source", "name: spring\naudience: {match: {tags: vip}}\ntrigger: {event: {type: signup}}\nsteps: {send: {template: welcome}}\n", chromedp.ByID))
	e.submit(cn, "#validate", "#problems")
	if got := e.text(cn, "#problems li"); !strings.Contains(got, "这里应是步骤列表（每一步是 send, wait, branch, tag, untag, set, webhook 之一），实际是映射") {
		t.Errorf("zh-CN steps problem: %q", got)
	}
	// A check made after parsing, against the templates.
	e.run(cn, chromedp.SetValue("#source", "name: spring\naudience: {match: {tags: vip}}\ntrigger: {event: {type: signup}}\nsteps:\n  - send: {id: hi, template: welcome, vars: {colour: blue}}\n", chromedp.ByID))
	e.submit(cn, "#validate", "#problems")
	if got := e.text(cn, "#problems li"); !strings.Contains(got, `模板 welcome 没有用到变量 "colour"`) || !strings.Contains(got, "请删掉或改正变量名") {
		t.Errorf("zh-CN template var problem: %q", got)
	}
	// The management functions' own checks: a page of a search that no
	// search handed out.
	e.run(cn, chromedp.Navigate(e.url+"/console/customers?q=x&after=zzz"), chromedp.WaitVisible(`.error[role=alert]`, chromedp.ByQuery))
	if got := e.text(cn, `.error[role=alert]`); got != "不是这份搜索结果给出的翻页位置" {
		t.Errorf("zh-CN search cursor: %q", got)
	}
	// The editor with a problem, for docs/console.md.
	e.run(cn, chromedp.Navigate(e.url+"/console/campaigns/new?example=nps-after-delivery"), chromedp.WaitVisible("#validate", chromedp.ByID))
	var example string
	e.run(cn, chromedp.Value("#source", &example, chromedp.ByID))
	e.run(cn, chromedp.SetValue("#source", strings.Replace(example, "template: survey_request,", "template: survey_requst,", 1), chromedp.ByID))
	e.submit(cn, "#validate", "#problems")
	if got := e.text(cn, "#problems li"); !strings.Contains(got, "第 17 行") || !strings.Contains(got, "survey_requst") {
		t.Errorf("zh-CN unknown template: %q", got)
	}
	e.shot(cn, "campaign-problem-zh-CN")
	// Fixed, the file's outline and the dry run's warning (nobody is in the
	// audience yet) read in Chinese too.
	e.run(cn, chromedp.SetValue("#source", example, chromedp.ByID))
	e.submit(cn, "#validate", "#valid")
	if got := e.text(cn, "#valid"); !strings.Contains(got, "nps-after-delivery 校验通过：事件 order_delivered 触发，6 个步骤") {
		t.Errorf("zh-CN valid file: %q", got)
	}
	e.submit(cn, "#dry-run", "#dry-run-result")
	if got := e.text(cn, "#dry-run-result .warnings"); got != "受众为空：没有人会收到这个活动" {
		t.Errorf("zh-CN dry run warning: %q", got)
	}
	if words := e.englishOn(cn); len(words) > 0 {
		t.Errorf("zh-CN dry run shows English: %q", words)
	}
	e.run(cn, chromedp.Navigate(e.url+"/console/reports/churn?days=0"), chromedp.WaitVisible("#problem", chromedp.ByID))
	if got := e.text(cn, "#problem"); got != "多少天未购买算流失：必须在 1 到 3650 之间" {
		t.Errorf("zh-CN churn filter: %q", got)
	}
	e.run(cn, chromedp.Navigate(e.url+"/console/reports/nps?since=soon"), chromedp.WaitVisible("#problem", chromedp.ByID))
	if got := e.text(cn, "#problem"); got != `开始日期："soon" 不是日期（2026-03-01）、时间（RFC 3339）或往前推的天数周数（90d、12w）` {
		t.Errorf("zh-CN period filter: %q", got)
	}

	tw := e.browser("zh-TW")
	e.signIn(tw, "mia@example.com")
	e.run(tw, chromedp.Navigate(e.url+"/console/segments/new"), chromedp.WaitVisible("#segment-count", chromedp.ByID),
		chromedp.SetValue("#source", "name: vips\nmatch:\n  any: {tags: vip}\n", chromedp.ByID),
		chromedp.Evaluate(`document.getElementById("source").dispatchEvent(new Event("input", {bubbles: true}))`, nil),
		chromedp.WaitVisible("#problems", chromedp.ByID))
	if got := e.text(tw, "#problems li"); !strings.Contains(got, "第 3 行") || !strings.Contains(got, "這裡應是條件清單，實際是對應表") {
		t.Errorf("zh-TW segment problem: %q", got)
	}

	admin := e.browser("zh-TW")
	e.signIn(admin, "root@example.com")
	e.run(admin, chromedp.Navigate(e.url+"/console/settings/users"), chromedp.WaitVisible("#add-user", chromedp.ByID),
		chromedp.SetValue(`#add-user input[name=email]`, "ann@localhost", chromedp.ByQuery))
	e.submit(admin, "#add-user button", `.error[role=alert]`)
	if got := e.text(admin, `.error[role=alert]`); got != `電子郵件："ann@localhost" 不是有效的電子郵件地址：網域名稱裡至少要有一個點` {
		t.Errorf("zh-TW user form: %q", got)
	}
	// A role the form never offered (a forged post), refused by the key's
	// check of it.
	e.run(admin, chromedp.Navigate(e.url+"/console/settings/keys"), chromedp.WaitVisible("#add-key", chromedp.ByID),
		chromedp.SetValue(`#add-key input[name=name]`, "shop", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("#add-key select[name=role]").add(new Option("boss", "boss", true, true))`, nil))
	e.submit(admin, "#add-key button", `.error[role=alert]`)
	if got := e.text(admin, `.error[role=alert]`); !strings.HasPrefix(got, `角色：沒有 "boss" 這個角色，可選：viewer`) {
		t.Errorf("zh-TW key form: %q", got)
	}
}
