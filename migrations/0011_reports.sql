-- Reports read a period of survey answers of one kind; without this index
-- an NPS report would read every answer ever given.
CREATE INDEX survey_responses_survey_time ON survey_responses (survey, answered_at);
