package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Registered is the one list of journeys and sweeps, by registered name.
// Adding a journey is one file in this package, one line here, and its
// templates.
func Registered() map[string]any {
	return map[string]any{
		OnboardingWorkflow:       OnboardingJourney,
		WinbackWorkflow:          WinbackJourney,
		SurveyWorkflow:           SurveyJourney,
		BirthdaySweepWorkflow:    BirthdaySweep,
		AnniversarySweepWorkflow: AnniversarySweep,
		WinbackSweepWorkflow:     WinbackSweep,
		CareSendWorkflow:         CareSend,
		CampaignRunWorkflow:      CampaignRun,
		CampaignRunnerWorkflow:   CampaignRunner,
	}
}

// Register adds every workflow in Registered to a worker or a replayer
// under its stable name, so renaming a Go function never breaks running
// journeys or schedules.
func Register(r worker.WorkflowRegistry) {
	for name, fn := range Registered() {
		r.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: name})
	}
}
