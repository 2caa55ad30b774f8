# Unit tests of the default policy, on a small mesh of their own. Run with
# `askmesh policy test` or `go test ./authz`.
package askmesh.authz_test

import data.askmesh.authz

# --- Fixtures --------------------------------------------------------------------

# product builds a product as askmesh gives it to policy (see data.go).
product(classification, access) := {
	"classification": classification,
	"columns": [c | some c, _ in classification],
	"columns_by_class": {k: {c | some c, k2 in classification; k2 == k} | some _, k in classification},
	"access": access,
}

grant(groups, actions) := {"groups": groups, "actions": actions, "see": [], "mask": {}, "row_filters": []}

sales_columns := {
	"order_id": "internal",
	"placed_at": "internal",
	"amount": "public",
	"card_number": "confidential",
	"buyer_name": "pii",
	"buyer_email": "pii",
	"tax_id": "restricted",
	"region": "internal",
}

products := {
	"sales": product(sales_columns, [
		# analysts: records and metrics, confidential in clear, pii redacted
		object.union(grant(["analysts"], ["records", "metrics"]), {"see": ["confidential"], "mask": {"pii": "redact"}}),
		# execs: metrics only
		grant(["execs"], ["metrics"]),
		# support: records only; card numbers show their last 4 digits
		object.union(grant(["support"], ["records"]), {"mask": {"card_number": "last4", "pii": "hash"}}),
		# field: records of their own region
		object.union(grant(["field"], ["records", "metrics"]), {"see": ["pii"], "row_filters": [{"column": "region", "op": "=", "value": null, "subject_attribute": "region"}]}),
		# partners: records of two regions, literal filter
		object.union(grant(["partners"], ["records"]), {"row_filters": [{"column": "region", "op": "in", "value": ["emea", "apac"], "subject_attribute": ""}]}),
		# dual: two grants for one group, combined
		object.union(grant(["dual"], ["records"]), {"see": ["confidential"]}),
		object.union(grant(["dual"], ["records"]), {"mask": {"pii": "hash"}}),
		# mixed: a literal filter and one from the asker's attribute
		object.union(grant(["mixed"], ["records"]), {"row_filters": [
			{"column": "region", "op": "=", "value": null, "subject_attribute": "region"},
			{"column": "amount", "op": ">", "value": 0, "subject_attribute": ""},
		]}),
		# a grant that tries to reveal restricted data: it must not work
		object.union(grant(["leaky"], ["records"]), {"see": ["restricted", "confidential"], "mask": {"tax_id": "last4", "restricted": "redact"}}),
	]),
	"ledger": product({"entry_id": "internal", "amount": "internal"}, []),
}

directory := {"users": {
	"ann@x.example": user("ann@x.example", ["analysts"], {}),
	"eve@x.example": user("eve@x.example", ["execs"], {}),
	"sam@x.example": user("sam@x.example", ["support"], {}),
	"fay@x.example": user("fay@x.example", ["field"], {"region": "emea"}),
	"fin@x.example": user("fin@x.example", ["field"], {}),
	"pat@x.example": user("pat@x.example", ["partners"], {}),
	"lee@x.example": user("lee@x.example", ["leaky"], {}),
	"mix@x.example": user("mix@x.example", ["analysts", "support"], {}),
	"fix@x.example": user("fix@x.example", ["analysts", "field"], {"region": "emea"}),
	"nob@x.example": user("nob@x.example", ["nobody"], {}),
	"dua@x.example": user("dua@x.example", ["dual"], {}),
	"mo@x.example": user("mo@x.example", ["mixed"], {"region": "apac"}),
	"mu@x.example": user("mu@x.example", ["mixed"], {}),
}}

user(id, groups, attributes) := {"id": id, "name": id, "title": "", "groups": groups, "attributes": attributes}

subject(id) := {
	"id": id,
	"groups": directory.users[id].groups,
	"attributes": directory.users[id].attributes,
	"known": true,
}

decide(sub, action, resource) := d if {
	d := authz.decision with input as {"subject": sub, "action": action, "resource": resource, "context": {"channel": "cli"}}
		with data.askmesh.products as products
		with data.askmesh.directory as directory
}

all_sales := [c | some c, _ in sales_columns]

records(id, columns) := decide(subject(id), "product.query_records", {"product": "sales", "columns": columns, "referenced": []})

metrics(id, referenced) := decide(subject(id), "product.query_metrics", {"product": "sales", "columns": [], "referenced": referenced})

# --- Who may ask ---------------------------------------------------------------------

test_unknown_subject_denied_everything if {
	stranger := {"id": "zed@x.example", "groups": ["analysts"], "attributes": {}, "known": false}
	every action in ["catalog.search", "product.describe", "product.query_records", "product.query_metrics", "product.get_record", "product.find_anomalies"] {
		decide(stranger, action, {"product": "sales", "columns": ["amount"]}) == {
			"allow": false,
			"reasons": ["you are not in the askmesh directory; ask an administrator for access"],
		}
	}
}

test_known_flag_without_directory_entry_denied if {
	forged := {"id": "zed@x.example", "groups": ["analysts"], "attributes": {}, "known": true}
	d := decide(forged, "catalog.search", {})
	d.allow == false
	d.reasons == ["you are not in the askmesh directory; ask an administrator for access"]
}

test_directory_lookup_ignores_case if {
	sub := object.union(subject("ann@x.example"), {"id": "Ann@X.example"})
	decide(sub, "catalog.search", {}).allow == true
}

test_known_subject_searches if {
	decide(subject("nob@x.example"), "catalog.search", {}) == {
		"allow": true, "reasons": [], "row_filters": [], "column_masks": {}, "denied_columns": [],
	}
}

test_unknown_action_denied if {
	d := decide(subject("ann@x.example"), "product.delete", {"product": "sales"})
	d.reasons == [`"product.delete" is not something askmesh can be asked to do`]
}

test_unknown_product_denied if {
	d := decide(subject("ann@x.example"), "product.query_records", {"product": "salez", "columns": ["amount"]})
	d.reasons == [`askmesh has no data product named "salez"`]
}

# --- Describe --------------------------------------------------------------------------

test_describe_without_grant_withholds_every_column if {
	d := decide(subject("nob@x.example"), "product.describe", {"product": "sales", "columns": all_sales})
	d.allow == true
	d.denied_columns == sort(all_sales)
	d.column_masks == {}
}

test_describe_shows_the_askers_view if {
	d := decide(subject("ann@x.example"), "product.describe", {"product": "sales"})
	d.allow == true
	d.denied_columns == ["tax_id"]
	d.column_masks == {"buyer_email": "redact", "buyer_name": "redact"}
}

# --- Records and metrics ---------------------------------------------------------------

test_no_grant_denied if {
	records("nob@x.example", ["amount"]).reasons == ["you are not in a group that may query sales"]
	metrics("nob@x.example", []).reasons == ["you are not in a group that may query sales"]
}

test_metrics_only_denied_records if {
	records("eve@x.example", ["amount"]).reasons == ["you may see metrics of sales, but not individual records"]
	decide(subject("eve@x.example"), "product.get_record", {"product": "sales", "columns": ["amount"]}).reasons == ["you may see metrics of sales, but not individual records"]
	decide(subject("eve@x.example"), "product.find_anomalies", {"product": "sales", "columns": ["amount"]}).reasons == ["you may see metrics of sales, but not individual records"]
	metrics("eve@x.example", ["amount"]).allow == true
}

test_records_only_denied_metrics if {
	metrics("sam@x.example", []).reasons == ["you may see individual records of sales, but not metrics"]
}

test_visibility_by_classification if {
	d := records("ann@x.example", all_sales)
	d.allow == true
	d.column_masks == {"buyer_email": "redact", "buyer_name": "redact"}
	d.denied_columns == ["tax_id"]
	d.row_filters == []
}

test_withheld_without_see_or_mask if {
	d := metrics("eve@x.example", [])
	d.allow == true
	d.column_masks == {}
	d.denied_columns == []
	d2 := decide(subject("eve@x.example"), "product.describe", {"product": "sales"})
	d2.denied_columns == ["buyer_email", "buyer_name", "card_number", "tax_id"]
}

test_column_mask_beats_classification if {
	d := records("sam@x.example", ["order_id", "card_number", "buyer_name"])
	d.allow == true
	d.column_masks == {"buyer_email": "hash", "buyer_name": "hash", "card_number": "last4"}
	d.denied_columns == []
}

test_restricted_never_granted if {
	d := records("lee@x.example", all_sales)
	d.allow == true
	not d.column_masks.tax_id
	d.denied_columns == ["buyer_email", "buyer_name", "tax_id"]
}

test_only_restricted_requested_denied if {
	d := records("ann@x.example", ["tax_id"])
	d.allow == false
	d.reasons == ["none of the columns you asked for from sales are visible to you (tax_id)"]
}

test_unknown_column_withheld if {
	d := records("ann@x.example", ["amount", "nope"])
	d.allow == true
	d.denied_columns == ["nope"]
}

# --- Columns computed with ---------------------------------------------------------------

test_referenced_withheld_denied if {
	metrics("eve@x.example", ["card_number"]).reasons == ["card_number is confidential and not visible to you, so it cannot be used in metrics, filters, grouping or sorting"]
}

test_referenced_masked_denied if {
	d := decide(subject("ann@x.example"), "product.query_records", {"product": "sales", "columns": ["amount"], "referenced": ["buyer_email"]})
	d.reasons == ["buyer_email is pii and you see it only masked, so it cannot be used in metrics, filters, grouping or sorting"]
}

test_referenced_restricted_denied if {
	d := decide(subject("lee@x.example"), "product.query_records", {"product": "sales", "columns": ["amount"], "referenced": ["tax_id"]})
	d.reasons == ["tax_id is restricted and never visible to anyone, so it cannot be used in metrics, filters, grouping or sorting"]
}

test_referenced_unknown_denied if {
	metrics("ann@x.example", ["nope"]).reasons == ["nope is not a column of sales"]
}

test_referenced_visible_allowed if {
	metrics("ann@x.example", ["card_number", "amount", "placed_at"]).allow == true
}

test_grouping_by_withheld_said_once if {
	d := decide(subject("eve@x.example"), "product.query_metrics", {"product": "sales", "columns": ["card_number"], "referenced": ["card_number"]})
	d.reasons == ["card_number is confidential and not visible to you, so it cannot be used in metrics, filters, grouping or sorting"]
}

# --- Row filters -----------------------------------------------------------------------------

test_row_filter_from_attribute if {
	d := records("fay@x.example", ["order_id", "buyer_name"])
	d.allow == true
	d.row_filters == [{"column": "region", "op": "=", "value": "emea"}]
	d.denied_columns == []
	metrics("fay@x.example", ["region"]).row_filters == [{"column": "region", "op": "=", "value": "emea"}]
}

test_row_filter_missing_attribute_denied if {
	d := records("fin@x.example", ["order_id"])
	d.allow == false
	d.reasons == ["your directory entry has no region attribute, which access to sales requires"]
}

test_empty_attribute_is_missing if {
	sub := object.union(subject("fay@x.example"), {"attributes": {"region": ""}})
	decide(sub, "product.query_records", {"product": "sales", "columns": ["order_id"]}).allow == false
}

test_literal_row_filter if {
	records("pat@x.example", ["order_id"]).row_filters == [{"column": "region", "op": "in", "value": ["emea", "apac"]}]
}

test_literal_and_attribute_row_filters if {
	records("mo@x.example", ["order_id"]).row_filters == [
		{"column": "amount", "op": ">", "value": 0},
		{"column": "region", "op": "=", "value": "apac"},
	]
	records("mu@x.example", ["order_id"]).reasons == ["your directory entry has no region attribute, which access to sales requires"]
}

test_describe_carries_no_row_filters if {
	d := decide(subject("fin@x.example"), "product.describe", {"product": "sales"})
	d.allow == true
	d.row_filters == []
}

# --- Several grants ----------------------------------------------------------------------------

# Without row filters, grants unite: ann's analyst grant shows card_number in
# clear although support masks it; buyer fields are masked by both, with
# different kinds, and the more protective (redact) wins.
test_grants_unite_without_row_filters if {
	d := records("mix@x.example", all_sales)
	d.allow == true
	d.column_masks == {"buyer_email": "redact", "buyer_name": "redact"}
	d.denied_columns == ["tax_id"]
	d.row_filters == []
}

# Two grants for one group unite as grants of two groups do.
test_grants_of_one_group_unite if {
	d := records("dua@x.example", all_sales)
	d.allow == true
	d.column_masks == {"buyer_email": "hash", "buyer_name": "hash"}
	d.denied_columns == ["tax_id"]
	d.row_filters == []
}

# With a row filter among them, the most restrictive applies: the field
# grant's filter, and for each column the least visibility of the two
# (analysts mask pii that field would show; field withholds card_number
# that analysts would show).
test_row_filtered_grant_makes_combination_restrictive if {
	d := records("fix@x.example", all_sales)
	d.allow == true
	d.row_filters == [{"column": "region", "op": "=", "value": "emea"}]
	d.column_masks == {"buyer_email": "redact", "buyer_name": "redact"}
	d.denied_columns == ["card_number", "tax_id"]
}

# --- Extension point -------------------------------------------------------------------------

test_a_module_deny_denies if {
	d := authz.decision with input as {"subject": subject("ann@x.example"), "action": "product.query_records", "resource": {"product": "sales", "columns": ["amount"]}}
		with data.askmesh.products as products
		with data.askmesh.directory as directory
		with authz.deny as {"sales records are frozen during the audit"}
	d == {"allow": false, "reasons": ["sales records are frozen during the audit"]}
}
