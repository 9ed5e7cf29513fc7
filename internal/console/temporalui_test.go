package console

import "testing"

// TestWebUILinks: links follow the Web UI's routes, with IDs escaped as
// one path segment each, and none is made without a base URL or for a run
// key Temporal did not hand out.
func TestWebUILinks(t *testing.T) {
	ui := webUI{base: "http://127.0.0.1:8233", namespace: "shop"}
	const run = "0195f0c2-8b1e-7d3a-9c4e-2f6a1b3c5d7e"
	for _, tc := range []struct{ got, want string }{
		{ui.run("journey/onboarding/c-1", run), "http://127.0.0.1:8233/namespaces/shop/workflows/journey%2Fonboarding%2Fc-1/" + run},
		{ui.run("campaign/spring/once/1", "campaign/spring/once/1/c-1"), ""},
		{ui.schedule("campaign/spring"), "http://127.0.0.1:8233/namespaces/shop/schedules/campaign%2Fspring"},
		{ui.running("OnboardingWorkflow"), `http://127.0.0.1:8233/namespaces/shop/workflows?query=WorkflowType%3D%22OnboardingWorkflow%22+AND+ExecutionStatus%3D%22Running%22`},
		{webUI{namespace: "shop"}.run("journey/onboarding/c-1", run), ""},
		{webUI{namespace: "shop"}.schedule("birthday-sweep"), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
