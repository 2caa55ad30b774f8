package planner

import (
	"strings"

	"github.com/askmesh/askmesh/catalog"
)

// stopword holds function words (and their stems): they carry no topic, so
// a catalog phrase made of one of them ("at", "other") is not matched, and
// they are never "corrected" into catalog words.
var stopword = map[string]bool{}

// questionWord holds the planner's own vocabulary: words that shape a
// question (how many, largest, describe). They are never spelling-corrected
// into catalog words.
var questionWord = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the of for to in on by and or is are was were be been being
		what which who whom whose how do does did done doing we our us i me my you your they them their he she his her
		have has had about with from at as this that these those there it its any all some
		show give list find get tell can could would should will shall may might must
		much many per each every into than then so if please data also just only ever vs versus
		over under above below more less most least between since during until till through against
		among across within without via up down out off again once here when where why both few other
		such no nor not own same too very s t now let lets want need see look looking got bring brought
		make made yes ok okay hi hello hey thanks thank one two three me am`) {
		stopword[w] = true
		stopword[catalog.Stem(w)] = true
	}
	for _, w := range strings.Fields(`how many much total totals sum average avg mean median count number rate ratio
		percentage share show list display fetch pull top largest biggest highest smallest lowest cheapest
		best worst most least fewest greatest latest recent newest oldest earliest first last
		unusual suspicious anomalous anomaly anomalies outlier outliers odd strange irregular abnormal
		describe description column columns field fields schema owner owns owned who what which
		summarize summarise summary brief overview recap report compare compared comparison trend trending
		monthly weekly daily quarterly yearly annually annual month week day quarter year today yesterday
		product products dataset datasets catalog about cover covers covering perform performance doing
		did try tried ask asked access accessed read query queried user users person people
		between since before after until from vs versus
		january february march april may june july august september october november december
		pii personal sensitive information info detail details record records row rows
		help hello thanks please`) {
		questionWord[w] = true
		questionWord[catalog.Stem(w)] = true
	}
}
