# The lending team's own rule, added to the default policy: credit scores
# are not shown in Slack, where messages are forwarded and kept outside the
# bank's records systems. Everything else about loan-applications stays as
# its descriptor's grants say.
package askmesh.authz

deny contains "credit scores are not shown in Slack; ask in the askmesh web app instead" if {
	input.resource.product == "loan-applications"
	input.context.channel == "slack"
	used := {c | some c in input.resource.columns} | {c | some c in input.resource.referenced}
	"credit_score" in used
}
