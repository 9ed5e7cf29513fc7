package api

import (
	"golang.org/x/text/language"
)

// pageLocales are the languages the public pages speak; the first is the
// fallback.
var pageLocales = []language.Tag{language.English, language.SimplifiedChinese, language.TraditionalChinese}

var pageMatcher = language.NewMatcher(pageLocales)

// pageLang picks the page language for a customer locale or an
// Accept-Language header: zh-TW and zh-HK read Traditional, zh and zh-CN
// Simplified, anything else English. It returns the key of the strings table
// and the value of the lang attribute.
func pageLang(prefs ...string) (key, lang string) {
	var tags []language.Tag
	for _, p := range prefs {
		if p == "" {
			continue
		}
		if ts, _, err := language.ParseAcceptLanguage(p); err == nil {
			tags = append(tags, ts...)
		}
	}
	_, i, _ := pageMatcher.Match(tags...)
	switch i {
	case 1:
		return "zh-CN", "zh-Hans-CN"
	case 2:
		return "zh-TW", "zh-Hant-TW"
	}
	return "en", "en"
}

// text holds every string the public pages show, per language.
var text = map[string]map[string]string{
	"en": {
		"seed.title":           "This was a test message",
		"seed.unsubscribe":     "In a real message, this link lets the customer stop receiving messages of this kind.",
		"seed.preferences":     "In a real message, this link opens the customer's message preferences.",
		"seed.survey":          "In a real message, this link opens the survey for the customer to answer.",
		"seed.nothing":         "This copy went to a test address, so nothing has changed: no one was unsubscribed and no answer was recorded.",
		"unsubscribe.title":    "Unsubscribe",
		"unsubscribe.question": "Stop receiving %s by %s?",
		"unsubscribe.button":   "Unsubscribe",
		"unsubscribe.done":     "Done. You will no longer receive %s by %s.",
		"preferences.link":     "Manage all your message preferences",
		"preferences.title":    "Your message preferences",
		"preferences.intro":    "Choose what we may send you. Receipts and account messages are always sent.",
		"preferences.save":     "Save preferences",
		"preferences.saved":    "Your preferences are saved.",
		"preferences.none":     "We hold no email address or phone number for you, so we send you nothing.",
		"privacy.legend":       "Privacy",
		"privacy.tracking":     "Let us see when you open our emails and which links you follow, so what we send suits you better",
		"survey.ask":           "Your feedback",
		"survey.question.nps":  "How likely are you to recommend us to a friend or colleague?",
		"survey.question.csat": "How satisfied are you with your recent experience with us?",
		"survey.scale.nps":     "0 = not at all likely, 10 = extremely likely",
		"survey.scale.csat":    "1 = very unsatisfied, 5 = very satisfied",
		"survey.answered":      "Thank you, we have your answer: %d out of %d. You can change it or add a comment below.",
		"survey.reconfirm":     "Please check your answer and send it with the button below.",
		"error.nomessage":      "We cannot find the message this survey link belongs to. Please use the link in your latest message.",
		"survey.title":         "Thank you",
		"survey.thanks":        "Thank you for your answer!",
		"survey.score":         "You gave us %d out of %d.",
		"survey.comment":       "Anything you would like to add? (optional)",
		"survey.send":          "Send",
		"survey.commented":     "Thank you, we read every comment.",
		"survey.pick":          "Please choose a score from %d to %d:",
		"error.title":          "Link not valid",
		"error.invalid":        "This link is not valid. It may have been copied incompletely: please use the link in your latest message.",
		"error.expired":        "This link has expired. Please use the link in your latest message.",
		"error.score":          "That score is not valid for this survey.",
		"error.comment":        "Your comment is too long (at most %d characters).",
		"channel.email":        "email",
		"channel.sms":          "SMS",
		"topic.marketing":      "news and offers",
		"topic.surveys":        "surveys",
		"topic.care":           "care messages",
		"topic.all":            "all messages except receipts",
	},
	"zh-CN": {
		"seed.title":           "这是一封测试消息",
		"seed.unsubscribe":     "在正式消息中，客户可以通过此链接退订这类消息。",
		"seed.preferences":     "在正式消息中，此链接会打开客户的消息偏好设置。",
		"seed.survey":          "在正式消息中，此链接会打开调查问卷，供客户作答。",
		"seed.nothing":         "这份消息发往测试地址，因此没有做任何更改：没有人被退订，也没有记录任何回答。",
		"unsubscribe.title":    "退订",
		"unsubscribe.question": "不再通过%[2]s接收%[1]s？",
		"unsubscribe.button":   "确认退订",
		"unsubscribe.done":     "已完成。您将不再通过%[2]s收到%[1]s。",
		"preferences.link":     "管理全部消息偏好设置",
		"preferences.title":    "消息偏好设置",
		"preferences.intro":    "请选择我们可以向您发送的内容。收据和账户消息始终会发送。",
		"preferences.save":     "保存设置",
		"preferences.saved":    "您的偏好设置已保存。",
		"preferences.none":     "我们没有您的电子邮件地址或手机号码，因此不会向您发送任何消息。",
		"privacy.legend":       "隐私",
		"privacy.tracking":     "允许我们了解您何时打开邮件、点击了哪些链接，以便为您发送更合适的内容",
		"survey.ask":           "您的反馈",
		"survey.question.nps":  "您有多大可能把我们推荐给朋友或同事？",
		"survey.question.csat": "您对最近的体验满意吗？",
		"survey.scale.nps":     "0 = 完全不可能，10 = 非常可能",
		"survey.scale.csat":    "1 = 非常不满意，5 = 非常满意",
		"survey.answered":      "谢谢，我们已收到您的评分：%d（满分 %d）。如需修改评分或补充意见，请在下方提交。",
		"survey.reconfirm":     "请确认您的评分，然后点击下方按钮提交。",
		"error.nomessage":      "找不到此调查链接所属的消息。请使用您最新收到的消息中的链接。",
		"survey.title":         "谢谢",
		"survey.thanks":        "感谢您的反馈！",
		"survey.score":         "您的评分：%d（满分 %d）。",
		"survey.comment":       "还有什么想告诉我们的吗？（选填）",
		"survey.send":          "提交",
		"survey.commented":     "谢谢，我们会认真阅读每一条意见。",
		"survey.pick":          "请选择 %d 到 %d 之间的评分：",
		"error.title":          "链接无效",
		"error.invalid":        "此链接无效，可能复制不完整。请使用您最新收到的消息中的链接。",
		"error.expired":        "此链接已过期。请使用您最新收到的消息中的链接。",
		"error.score":          "该评分不适用于此调查。",
		"error.comment":        "您的意见太长（最多 %d 个字符）。",
		"channel.email":        "电子邮件",
		"channel.sms":          "短信",
		"topic.marketing":      "新闻和优惠",
		"topic.surveys":        "调查问卷",
		"topic.care":           "关怀消息",
		"topic.all":            "除收据外的所有消息",
	},
	"zh-TW": {
		"seed.title":           "這是一則測試訊息",
		"seed.unsubscribe":     "在正式訊息中，客戶可以透過此連結取消訂閱這類訊息。",
		"seed.preferences":     "在正式訊息中，此連結會開啟客戶的訊息偏好設定。",
		"seed.survey":          "在正式訊息中，此連結會開啟問卷，讓客戶填答。",
		"seed.nothing":         "這則訊息寄往測試地址，因此沒有做任何變更：沒有人被取消訂閱，也沒有記錄任何回答。",
		"unsubscribe.title":    "取消訂閱",
		"unsubscribe.question": "不再透過%[2]s接收%[1]s？",
		"unsubscribe.button":   "確認取消訂閱",
		"unsubscribe.done":     "已完成。您將不再透過%[2]s收到%[1]s。",
		"preferences.link":     "管理全部訊息偏好設定",
		"preferences.title":    "訊息偏好設定",
		"preferences.intro":    "請選擇我們可以寄送給您的內容。收據與帳戶訊息一律會寄送。",
		"preferences.save":     "儲存設定",
		"preferences.saved":    "您的偏好設定已儲存。",
		"preferences.none":     "我們沒有您的電子郵件地址或手機號碼，因此不會寄送任何訊息給您。",
		"privacy.legend":       "隱私",
		"privacy.tracking":     "允許我們得知您何時開啟郵件、點選了哪些連結，以便寄送更適合您的內容",
		"survey.ask":           "您的回饋",
		"survey.question.nps":  "您有多大可能把我們推薦給朋友或同事？",
		"survey.question.csat": "您對最近的體驗滿意嗎？",
		"survey.scale.nps":     "0 = 完全不可能，10 = 非常可能",
		"survey.scale.csat":    "1 = 非常不滿意，5 = 非常滿意",
		"survey.answered":      "謝謝，我們已收到您的評分：%d（滿分 %d）。如需修改評分或補充意見，請在下方送出。",
		"survey.reconfirm":     "請確認您的評分，再按下方按鈕送出。",
		"error.nomessage":      "找不到這個問卷連結所屬的訊息。請使用您最新收到的訊息中的連結。",
		"survey.title":         "謝謝",
		"survey.thanks":        "感謝您的回饋！",
		"survey.score":         "您的評分：%d（滿分 %d）。",
		"survey.comment":       "還有什麼想告訴我們的嗎？（選填）",
		"survey.send":          "送出",
		"survey.commented":     "謝謝，我們會認真閱讀每一則意見。",
		"survey.pick":          "請選擇 %d 到 %d 之間的評分：",
		"error.title":          "連結無效",
		"error.invalid":        "此連結無效，可能複製不完整。請使用您最新收到的訊息中的連結。",
		"error.expired":        "此連結已過期。請使用您最新收到的訊息中的連結。",
		"error.score":          "此評分不適用於這份問卷。",
		"error.comment":        "您的意見太長（最多 %d 個字元）。",
		"channel.email":        "電子郵件",
		"channel.sms":          "簡訊",
		"topic.marketing":      "新聞與優惠",
		"topic.surveys":        "問卷調查",
		"topic.care":           "關懷訊息",
		"topic.all":            "收據以外的所有訊息",
	},
}

// t looks a string up, falling back to English and then to the key itself
// (a topic added by configuration shows its own name).
func t(lang, key string) string {
	if s, ok := text[lang][key]; ok {
		return s
	}
	if s, ok := text["en"][key]; ok {
		return s
	}
	return key
}
