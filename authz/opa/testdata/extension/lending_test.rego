package askmesh.lending_test

import data.askmesh.authz

loans := {"loan-applications": {
	"classification": {"application_id": "internal", "credit_score": "confidential"},
	"columns": ["application_id", "credit_score"],
	"columns_by_class": {"internal": {"application_id"}, "confidential": {"credit_score"}},
	"access": [{"groups": ["lending"], "actions": ["records", "metrics"], "see": ["confidential"], "mask": {}, "row_filters": []}],
}}

officer := {"users": {"bob@bank.example": {"id": "bob@bank.example", "name": "Bob", "title": "", "groups": ["lending"], "attributes": {}}}}

decide(channel, columns, referenced) := d if {
	d := authz.decision with input as {
		"subject": {"id": "bob@bank.example", "groups": ["lending"], "attributes": {}, "known": true},
		"action": "product.query_records",
		"resource": {"product": "loan-applications", "columns": columns, "referenced": referenced},
		"context": {"channel": channel},
	}
		with data.askmesh.products as loans
		with data.askmesh.directory as officer
}

test_no_credit_scores_in_slack if {
	decide("slack", ["application_id", "credit_score"], []) == {
		"allow": false,
		"reasons": ["credit scores are not shown in Slack; ask in the askmesh web app instead"],
	}
	decide("slack", ["application_id"], ["credit_score"]).allow == false
}

test_credit_scores_on_the_web if {
	decide("web", ["application_id", "credit_score"], []).allow == true
}

test_other_columns_in_slack if {
	decide("slack", ["application_id"], []).allow == true
}
