package app

import "github.com/tidingsdev/tidings/workflows"

// SurveyTriggers are the survey journey's triggers in force (event type →
// nps or csat). The NPS and CSAT reports need them: an invitation nobody
// answered has no survey kind of its own, only the trigger of its run.
func (a *App) SurveyTriggers() (map[string]string, error) {
	s, err := a.JourneySettings()
	if err != nil {
		return nil, err
	}
	for _, j := range workflows.Journeys() {
		if j.Name == workflows.Survey {
			return j.Values(s).EventMap("triggers"), nil
		}
	}
	return nil, nil
}
