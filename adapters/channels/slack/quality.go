package slack

import (
	"github.com/slack-go/slack"

	"github.com/askmesh/askmesh/assistant"
)

// verifiedBlocks marks an answer built from a question its product's
// owners verified; it was still authorized and audited for the asker.
func verifiedBlocks(ans *assistant.Answer) []slack.Block {
	v := ans.Verified
	if v == nil {
		return nil
	}
	text := ":white_check_mark: *Verified by " + mrkdwn(v.VerifiedBy) + ", " + mrkdwn(v.VerifiedAt) + "*"
	return []slack.Block{slack.NewContextBlock("verified", slack.NewTextBlockObject(slack.MarkdownType, text, false, false))}
}
