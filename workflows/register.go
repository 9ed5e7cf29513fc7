package workflows

// Journeys is the one list of journeys, in the order routing and listings
// show them. Adding a journey is one file in this package (its workflow and
// its descriptor), one line here, and its templates.
func Journeys() []Journey {
	return []Journey{
		onboardingJourney(),
		surveyJourney(),
		winbackJourney(),
		birthdayJourney(),
		anniversaryJourney(),
		careJourney(),
		crossSellJourney(),
		campaignJourney(),
		refreshJourney(),
	}
}
