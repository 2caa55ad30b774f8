package bankgen

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Row counts at scale 1.
const (
	baseCustomers    = 5000
	baseTransactions = 100000
	baseLoans        = 8000
	baseInteractions = 20000
	numCampaigns     = 40
	baseAnomalies    = 50

	// anomalyMinTxns: injected anomalies go to customers with at least
	// this many transactions, so that one value can clear mean + 3 sd by
	// a wide margin.
	anomalyMinTxns = 30
	// organicStrength competes with the active campaigns' strengths for
	// each acquisition: about 60% of acquisitions come from campaigns.
	organicStrength = 1.6
	// lastMonthLift is how much the last full month's daily acquisition
	// rate exceeds the month before's.
	lastMonthLift = 1.3
)

// Random streams: one per part of the data, so that a change in one part
// does not shift the random numbers of another.
const (
	streamCampaigns = iota + 1
	streamAcquisitions
	streamCustomers
	streamTransactions
	streamAnomalies
	streamTaming
	streamAccounts
	streamLoans
	streamInteractions
)

const day = 86400 // seconds

type campaign struct {
	id, name      string
	channel       int
	start, end    int // day indexes, inclusive
	budget        int64
	strength      float64
	convRate, ctr float64
	impressions   int64
	clicks        int64
	conversions   int64
}

type customer struct {
	id         string
	acquired   int64 // Unix seconds
	joinDay    int   // day index of acquired
	campaign   int   // index into campaigns, -1 when organic
	acqChannel string
	region     int
	segment    int
	risk       int
	fullName   string
	email      string
	ssn        string
	birth      int64 // Unix seconds of the date of birth
	weight     float64
	amtScale   float64
	employer   int
	city       int
	accounts   []string
	currencies []int // per account
}

type txn struct {
	at           int64
	cust         int32
	acct         int8
	typ          int8
	channel      int8
	injected     bool
	cents        int64
	counterparty string
	id           string
}

type loan struct {
	id      string
	cust    int32
	typ     int
	cents   int64
	status  string
	score   int64
	applied int64
	decided int64 // 0 when undecided
}

type interaction struct {
	id        string
	cust      int32
	at        int64
	channel   int
	topic     int
	sentiment int
	resolved  bool
	minutes   int64 // hundredths
}

// dataset is the whole generated mesh, in memory.
type dataset struct {
	opts     Options
	startDay time.Time // first day of the data, 00:00 UTC
	endTime  time.Time // the day after AsOf, 00:00 UTC: the exclusive end
	start    int64     // startDay in Unix seconds
	days     int

	campaigns    []campaign
	customers    []customer
	kByDay       []int // customers acquired before the end of each day
	txns         []txn
	loans        []loan
	interactions []interaction
	anomalies    []string // injected anomaly transaction ids, in id order
	holder       int      // the customer owning account 123456
	tamed        int      // natural outliers lowered (diagnostics)
}

// generate builds the dataset for normalized options.
func generate(ctx context.Context, opts Options) (*dataset, error) {
	ds := &dataset{opts: opts}
	ds.startDay = opts.AsOf.AddDate(0, -24, 0)
	ds.endTime = opts.AsOf.AddDate(0, 0, 1)
	ds.start = ds.startDay.Unix()
	ds.days = int((ds.endTime.Unix() - ds.start) / day)
	steps := []func() error{
		ds.genCampaigns,
		ds.genAcquisitions,
		ds.genCustomerDetails,
		ds.genTransactions,
		ds.tameOutliers,
		ds.pickAccountHolder,
		ds.injectAnomalies,
		ds.assignAccounts,
		ds.checkAnomalies,
		ds.genLoans,
		ds.genInteractions,
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("bankgen: %w", err)
		}
		if err := step(); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

func (ds *dataset) rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(ds.opts.Seed), stream))
}

func (ds *dataset) scaled(n int) int { return n * ds.opts.Scale }

func (ds *dataset) dayStart(d int) int64 { return ds.start + int64(d)*day }

func (ds *dataset) date(d int) time.Time { return ds.startDay.AddDate(0, 0, d) }

func (ds *dataset) dayIndex(t time.Time) int { return int((t.Unix() - ds.start) / day) }

// --- random helpers ---

func uniform(r *rand.Rand, a, b float64) float64 { return a + (b-a)*r.Float64() }

// logUniform draws between a and b with equal weight per order of
// magnitude: many small amounts, a few large ones, never beyond b.
func logUniform(r *rand.Rand, a, b float64) float64 { return a * math.Pow(b/a, r.Float64()) }

func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

// pick draws an index with probability proportional to its weight.
func pick(r *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	for i := len(weights) - 1; i >= 0; i-- { // rounding at the very end
		if weights[i] > 0 {
			return i
		}
	}
	return 0
}

// cumulative is a weighted picker over many items (binary search).
type cumulative []float64

func newCumulative(weights []float64) cumulative {
	c := make(cumulative, len(weights))
	total := 0.0
	for i, w := range weights {
		total += w
		c[i] = total
	}
	return c
}

// pickN draws among the first n items.
func (c cumulative) pickN(r *rand.Rand, n int) int {
	x := r.Float64() * c[n-1]
	return sort.Search(n, func(i int) bool { return c[i] > x })
}

func (c cumulative) pick(r *rand.Rand) int { return c.pickN(r, len(c)) }

// hourWeights: activity by hour of day (UTC), business hours heaviest.
var hourWeights = newCumulative([]float64{
	0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.5, 1.8, 2.0, 2.0,
	2.2, 2.0, 1.9, 1.9, 1.9, 2.0, 2.0, 1.8, 1.5, 1.1, 0.7, 0.4,
})

func secondOfDay(r *rand.Rand) int64 {
	return int64(hourWeights.pick(r))*3600 + r.Int64N(3600)
}

// timeOnOrAfter draws a time on day d, never before notBefore (a
// customer's acquisition, when it is on the same day).
func (ds *dataset) timeOnOrAfter(r *rand.Rand, d int, notBefore int64) int64 {
	t := ds.dayStart(d) + secondOfDay(r)
	if t < notBefore {
		t = notBefore + r.Int64N(ds.dayStart(d)+day-notBefore)
	}
	return t
}

// allocate splits n into integer parts proportional to weights (largest
// remainder; ties to the lower index).
func allocate(n int, weights []float64) []int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	out := make([]int, len(weights))
	frac := make([]float64, len(weights))
	left := n
	for i, w := range weights {
		exact := float64(n) * w / total
		out[i] = int(math.Floor(exact))
		frac[i] = exact - float64(out[i])
		left -= out[i]
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return frac[order[a]] > frac[order[b]] })
	for i := 0; i < left; i++ {
		out[order[i%len(order)]]++
	}
	return out
}

func width(n, min int) int {
	if w := len(strconv.Itoa(n)); w > min {
		return w
	}
	return min
}

// --- campaigns ---

func seasonOf(m time.Month) int {
	switch m {
	case time.December, time.January, time.February:
		return 0
	case time.March, time.April, time.May:
		return 1
	case time.June, time.July, time.August:
		return 2
	}
	return 3
}

// Per campaign channel (email, social, search, tv, branch): how often it is
// used, how strongly it pulls new customers, and the ranges of its
// conversion rate (conversions / clicks), click-through rate (clicks /
// impressions) and budget.
var (
	campChannelWeights = []float64{0.25, 0.25, 0.2, 0.1, 0.2}
	campStrength       = []float64{0.9, 1.0, 1.3, 1.6, 0.7}
	campConvRate       = [][2]float64{{0.04, 0.09}, {0.01, 0.035}, {0.06, 0.15}, {0.008, 0.02}, {0.08, 0.15}}
	campCTR            = [][2]float64{{0.02, 0.05}, {0.006, 0.015}, {0.03, 0.07}, {0.002, 0.005}, {0.02, 0.06}}
	campBudget         = [][2]float64{{5000, 30000}, {20000, 90000}, {30000, 120000}, {150000, 400000}, {10000, 50000}}
)

func (ds *dataset) genCampaigns() error {
	r := ds.rng(streamCampaigns)
	cs := make([]campaign, numCampaigns)
	last := ds.days - 14 // the last campaign starts about two weeks before the as-of date
	for i := range cs {
		base := float64(i) * float64(last) / float64(numCampaigns-1)
		jitter := uniform(r, -5, 5)
		switch i {
		case 0:
			jitter = uniform(r, 0, 5)
		case numCampaigns - 1:
			jitter = uniform(r, -7, 0)
		}
		s := max(0, min(last, int(math.Round(base+jitter))))
		cs[i].start = s
		cs[i].end = min(s+20+r.IntN(43), ds.days-1) // three to nine weeks
	}

	// The Summer Special Offer runs through the latest summer the window
	// holds whole: early June to late August.
	y := ds.opts.AsOf.Year()
	for time.Date(y, time.August, 31, 0, 0, 0, 0, time.UTC).After(ds.opts.AsOf) {
		y--
	}
	june := ds.dayIndex(time.Date(y, time.June, 1, 0, 0, 0, 0, time.UTC))
	if june < 0 {
		return fmt.Errorf("bankgen: no whole summer in the data window")
	}
	best := 0
	for i := range numCampaigns - 1 {
		if abs(cs[i].start-june) < abs(cs[best].start-june) {
			best = i
		}
	}
	cs[best].start = june + r.IntN(10)
	cs[best].end = ds.dayIndex(time.Date(y, time.August, 20, 0, 0, 0, 0, time.UTC)) + r.IntN(12)
	cs[best].name = SummerSpecialOffer
	slices.SortStableFunc(cs, func(a, b campaign) int { return cmp.Compare(a.start, b.start) })

	var seasonal [4][]string
	for i := range seasonal {
		seasonal[i] = slices.Clone(seasonalCampaignNames[i])
	}
	generic := slices.Clone(genericCampaignNames)
	take := func(list *[]string) string {
		i := r.IntN(len(*list))
		name := (*list)[i]
		*list = slices.Delete(*list, i, i+1)
		return name
	}
	for i := range cs {
		c := &cs[i]
		c.id = fmt.Sprintf("camp-%03d", i+1)
		switch {
		case c.name == SummerSpecialOffer:
			c.channel = 0 // email
		case i == len(cs)-1:
			// The campaign running at the as-of date is a digital one.
			c.channel = pick(r, []float64{1, 1, 1, 0, 0})
		default:
			c.channel = pick(r, campChannelWeights)
		}
		c.strength = campStrength[c.channel] * uniform(r, 0.6, 1.5)
		c.convRate = uniform(r, campConvRate[c.channel][0], campConvRate[c.channel][1])
		c.ctr = uniform(r, campCTR[c.channel][0], campCTR[c.channel][1])
		c.budget = int64(math.Round(uniform(r, campBudget[c.channel][0], campBudget[c.channel][1])/500)) * 500 * 100
		if c.name == SummerSpecialOffer {
			c.strength, c.convRate, c.ctr = 2.2, 0.12, 0.045
			continue
		}
		season := seasonOf(ds.date(c.start).Month())
		switch {
		case len(seasonal[season]) > 0 && (r.Float64() < 0.5 || len(generic) == 0):
			c.name = take(&seasonal[season])
		case len(generic) > 0:
			c.name = take(&generic)
		default:
			return fmt.Errorf("bankgen: ran out of campaign names")
		}
	}
	ds.campaigns = cs
	return nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// --- acquisitions and customers ---

var (
	// Indexed by time.Weekday (Sunday first) and time.Month (1-12).
	acqWeekday = []float64{0.35, 1.1, 1.1, 1.05, 1.0, 0.95, 0.55}
	acqSeason  = []float64{0, 1.15, 1.0, 1.1, 1.0, 0.95, 0.9, 0.85, 0.85, 1.1, 1.05, 1.0, 0.8}
)

type bucket struct {
	first, end int // day indexes [first, end)
}

// monthBuckets splits the window into calendar months (the first and the
// last partial).
func (ds *dataset) monthBuckets() []bucket {
	var out []bucket
	first := 0
	for d := 1; d <= ds.days; d++ {
		if d == ds.days || ds.date(d).Day() == 1 {
			out = append(out, bucket{first, d})
			first = d
		}
	}
	return out
}

// genAcquisitions draws when each customer was acquired: a growing trend,
// seasons, fewer at weekends, and a last full month clearly above the
// month before it. Customers are numbered in acquisition order.
func (ds *dataset) genAcquisitions() error {
	r := ds.rng(streamAcquisitions)
	n := ds.scaled(baseCustomers)
	buckets := ds.monthBuckets()
	rate := make([]float64, len(buckets))
	weights := make([]float64, len(buckets))
	for k, b := range buckets {
		mid := float64(b.first+b.end) / 2
		trend := 0.5 + 0.5*mid/float64(ds.days)
		rate[k] = trend * acqSeason[ds.date(b.first).Month()] * uniform(r, 0.92, 1.08)
	}
	if k := len(buckets) - 2; k >= 1 {
		rate[k] = rate[k-1] * lastMonthLift
	}
	for k, b := range buckets {
		weights[k] = rate[k] * float64(b.end-b.first)
	}
	counts := allocate(n, weights)
	ats := make([]int64, 0, n)
	for k, b := range buckets {
		dw := make([]float64, b.end-b.first)
		for i := range dw {
			dw[i] = acqWeekday[ds.date(b.first+i).Weekday()]
		}
		days := newCumulative(dw)
		for range counts[k] {
			d := b.first + days.pick(r)
			ats = append(ats, ds.dayStart(d)+secondOfDay(r))
		}
	}
	slices.Sort(ats)

	w := width(n, 5)
	ds.customers = make([]customer, n)
	ds.kByDay = make([]int, ds.days)
	for i, at := range ats {
		c := &ds.customers[i]
		c.id = fmt.Sprintf("cust-%0*d", w, i+1)
		c.acquired = at
		c.joinDay = int((at - ds.start) / day)
		ds.kByDay[c.joinDay] = i + 1
	}
	for d := 1; d < ds.days; d++ {
		ds.kByDay[d] = max(ds.kByDay[d], ds.kByDay[d-1])
	}

	// Attribution: the campaigns running that day compete with organic
	// channels by strength.
	organic := []string{"referral", "branch", "search"}
	organicWeights := []float64{0.4, 0.3, 0.3}
	strengths := make([]float64, 0, len(ds.campaigns)+1)
	active := make([]int, 0, len(ds.campaigns))
	for i := range ds.customers {
		c := &ds.customers[i]
		strengths, active = strengths[:0], active[:0]
		for j, cp := range ds.campaigns {
			if cp.start <= c.joinDay && c.joinDay <= cp.end {
				strengths = append(strengths, cp.strength)
				active = append(active, j)
			}
		}
		strengths = append(strengths, organicStrength)
		k := pick(r, strengths)
		if k < len(active) {
			c.campaign = active[k]
			cp := &ds.campaigns[active[k]]
			cp.conversions++
			c.acqChannel = campChannels[cp.channel]
		} else {
			c.campaign = -1
			c.acqChannel = organic[pick(r, organicWeights)]
		}
	}

	// Clicks and impressions follow from each campaign's conversions and
	// its own conversion and click-through rates.
	for i := range ds.campaigns {
		cp := &ds.campaigns[i]
		if cp.conversions > 0 {
			cp.clicks = int64(math.Round(float64(cp.conversions) / cp.convRate))
		} else {
			cp.clicks = int64(200 + r.IntN(800))
		}
		cp.impressions = int64(math.Round(float64(cp.clicks) / cp.ctr))
	}
	return nil
}

var (
	regionWeights  = []float64{0.42, 0.36, 0.22}
	segmentWeights = []float64{0.6, 0.24, 0.05, 0.11}
	riskWeights    = []float64{0.68, 0.24, 0.08}
	// Activity and amount size by segment.
	segmentActivity = []float64{1.0, 1.15, 1.3, 1.6}
	segmentAmount   = []float64{1.0, 1.8, 3.5, 2.5}
	// Account currencies by region (USD, EUR, GBP).
	regionCurrency = [][]float64{{0.97, 0.02, 0.01}, {0.05, 0.65, 0.30}, {0.75, 0.10, 0.15}}
)

func (ds *dataset) genCustomerDetails() error {
	r := ds.rng(streamCustomers)
	for i := range ds.customers {
		c := &ds.customers[i]
		c.region = pick(r, regionWeights)
		c.segment = pick(r, segmentWeights)
		c.risk = pick(r, riskWeights)
		first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		c.fullName = first + " " + last
		c.email = fmt.Sprintf("%s.%s%d@%s", lower(first), lower(last), i+1, emailDomains[r.IntN(len(emailDomains))])
		// 9xx area numbers are never issued: obviously fake.
		c.ssn = fmt.Sprintf("9%02d-%02d-%04d", r.IntN(100), 1+r.IntN(99), 1+r.IntN(9999))
		minAge, maxAge := 18, 85
		if c.segment == segBusiness || c.segment == segPrivate {
			minAge, maxAge = 28, 75
		}
		joined := ds.date(c.joinDay)
		birth := joined.AddDate(-(minAge + r.IntN(maxAge-minAge)), 0, -r.IntN(365))
		c.birth = birth.Unix()
		c.weight = max(0.15, min(5, lognormal(r, 1, 0.6)*segmentActivity[c.segment]))
		c.amtScale = segmentAmount[c.segment] * lognormal(r, 1, 0.25)
		c.employer = r.IntN(len(employers))
		c.city = r.IntN(len(cities[c.region]))
		nAcc := 1 + pick(r, []float64{0.5, 0.35, 0.15})
		c.accounts = make([]string, nAcc)
		c.currencies = make([]int, nAcc)
		for j := range c.currencies {
			c.currencies[j] = pick(r, regionCurrency[c.region])
		}
	}
	return nil
}

func lower(s string) string {
	b := []byte(s)
	for i, x := range b {
		if 'A' <= x && x <= 'Z' {
			b[i] = x + 'a' - 'A'
		}
	}
	return string(b)
}

// --- transactions ---

var (
	// Indexed by time.Weekday (Sunday first) and time.Month (1-12):
	// fewer transactions at weekends, a December peak, a summer dip.
	txnWeekday = []float64{0.5, 1.05, 1.0, 1.0, 1.02, 1.12, 0.75}
	txnSeason  = []float64{0, 0.92, 0.93, 1.0, 1.0, 1.0, 0.9, 0.8, 0.8, 1.0, 1.02, 1.08, 1.3}
	// Type mix: deposit, withdrawal, transfer, card_payment, international_transfer.
	txnTypeBase = []float64{0.20, 0.17, 0.18, 0.40, 0.05}
	// Channel (branch, online, mobile, atm) by type.
	txnChannelByType = [][]float64{
		{0.35, 0.15, 0.30, 0.20},
		{0.25, 0, 0, 0.75},
		{0.10, 0.45, 0.45, 0},
		{0, 0.5, 0.5, 0},
		{0.30, 0.60, 0.10, 0},
	}
)

func txnTypeWeights(dst []float64, wd time.Weekday, m time.Month, segment int) []float64 {
	dst = append(dst[:0], txnTypeBase...)
	switch wd {
	case time.Friday:
		dst[tCard] *= 1.6
	case time.Saturday:
		dst[tCard] *= 1.7
		dst[tDeposit] *= 0.6
		dst[tTransfer] *= 0.7
	case time.Sunday:
		dst[tCard] *= 1.2
		dst[tDeposit] *= 0.4
		dst[tTransfer] *= 0.8
		dst[tIntl] *= 0.5
	}
	if m == time.December {
		dst[tCard] *= 1.3
	}
	switch segment {
	case segBusiness:
		dst[tTransfer] *= 1.8
		dst[tIntl] *= 2.0
		dst[tCard] *= 0.6
	case segPrivate:
		dst[tIntl] *= 1.8
		dst[tTransfer] *= 1.2
	case segAffluent:
		dst[tIntl] *= 1.3
	}
	return dst
}

func (ds *dataset) genTransactions() error {
	r := ds.rng(streamTransactions)
	n := ds.scaled(baseTransactions)
	cw := make([]float64, len(ds.customers))
	for i, c := range ds.customers {
		cw[i] = c.weight
	}
	custCum := newCumulative(cw)
	dw := make([]float64, ds.days)
	for d := range dw {
		if k := ds.kByDay[d]; k > 0 {
			t := ds.date(d)
			dw[d] = custCum[k-1] * txnWeekday[t.Weekday()] * txnSeason[t.Month()]
		}
	}
	days := newCumulative(dw)
	ds.txns = make([]txn, n)
	var typeW, chanW []float64
	for i := range ds.txns {
		d := days.pick(r)
		ci := custCum.pickN(r, ds.kByDay[d])
		c := &ds.customers[ci]
		t := &ds.txns[i]
		t.cust = int32(ci)
		t.at = ds.timeOnOrAfter(r, d, c.acquired)
		date := ds.date(d)
		typeW = txnTypeWeights(typeW, date.Weekday(), date.Month(), c.segment)
		t.typ = int8(pick(r, typeW))
		chanW = append(chanW[:0], txnChannelByType[t.typ]...)
		switch date.Weekday() {
		case time.Sunday:
			chanW[chBranch] = 0 // branches are closed
		case time.Saturday:
			chanW[chBranch] *= 0.5
		}
		t.channel = int8(pick(r, chanW))
		if len(c.accounts) > 1 && r.Float64() >= 0.7 {
			t.acct = int8(1 + r.IntN(len(c.accounts)-1))
		}
		t.cents = amount(r, int(t.typ), int(t.channel), c.amtScale)
		t.counterparty = ds.counterparty(r, t, c)
	}
	slices.SortStableFunc(ds.txns, func(a, b txn) int { return cmp.Compare(a.at, b.at) })
	w := width(n, 7)
	for i := range ds.txns {
		ds.txns[i].id = fmt.Sprintf("txn-%0*d", w, i+1)
	}
	return nil
}

// amount draws a normal transaction amount in cents, scaled by the
// customer's wealth. Small payments (cards, ATMs) are skewed towards small
// values; the large types share overlapping, bounded, flat ranges. A rare
// type far above the others (say international transfers alone in the
// thousands) would stand more than 3 standard deviations above many a
// customer's mean; with these ranges natural outliers are rare, and the
// injected anomalies stand alone.
func amount(r *rand.Rand, typ, channel int, scale float64) int64 {
	var v float64
	switch typ {
	case tDeposit:
		v = uniform(r, 100, 2000) * scale
	case tWithdrawal:
		if channel == chATM {
			return 2000 * int64(math.Round(logUniform(r, 1, 20))) // multiples of 20
		}
		return int64(math.Round(uniform(r, 100, 1500)*scale)) * 100
	case tTransfer:
		v = uniform(r, 50, 1500) * scale
	case tCard:
		v = logUniform(r, 5, 250) * scale
	default:
		v = uniform(r, 200, 2000) * scale
	}
	return max(1, int64(math.Round(v*100)))
}

func (ds *dataset) counterparty(r *rand.Rand, t *txn, c *customer) string {
	switch int(t.typ) {
	case tDeposit:
		switch {
		case t.channel == chBranch || t.channel == chATM:
			return "Cash deposit"
		case r.Float64() < 0.75:
			return employers[c.employer] + " Payroll"
		}
		return "Transfer from " + personName(r)
	case tWithdrawal:
		if t.channel == chATM {
			return "ATM " + cities[c.region][c.city]
		}
		return "Branch " + cities[c.region][c.city]
	case tTransfer:
		if r.Float64() < 0.4 {
			return "Own savings account"
		}
		return personName(r)
	case tCard:
		return merchants[r.IntN(len(merchants))]
	}
	return foreignBeneficiary(r)
}

func personName(r *rand.Rand) string {
	return firstNames[r.IntN(len(firstNames))][:1] + ". " + lastNames[r.IntN(len(lastNames))]
}

func foreignBeneficiary(r *rand.Rand) string {
	return personName(r) + " (" + countries[r.IntN(len(countries))] + ")"
}

// --- anomalies ---

// txnsByCustomer lists each customer's transaction indexes.
func (ds *dataset) txnsByCustomer() [][]int32 {
	by := make([][]int32, len(ds.customers))
	for i, t := range ds.txns {
		by[t.cust] = append(by[t.cust], int32(i))
	}
	return by
}

// stats is the rule find_anomalies applies: mean and population standard
// deviation of a customer's amounts.
func (ds *dataset) stats(idx []int32) (mean, sd float64) {
	n := float64(len(idx))
	for _, i := range idx {
		mean += float64(ds.txns[i].cents)
	}
	mean /= n
	for _, i := range idx {
		d := float64(ds.txns[i].cents) - mean
		sd += d * d
	}
	return mean, math.Sqrt(sd / n)
}

// tameOutliers lowers natural outliers: amounts within 3% of their
// customer's mean + 3 sd (or above it), so that the only anomalies in the
// data are the injected ones, far from the edge.
func (ds *dataset) tameOutliers() error {
	r := ds.rng(streamTaming)
	for _, idx := range ds.txnsByCustomer() {
		// With ten values or fewer, none can exceed mean + 3 sd.
		if len(idx) <= 10 {
			continue
		}
		for iter := 0; ; iter++ {
			if iter > 10000 {
				return fmt.Errorf("bankgen: outliers of customer %s do not settle", ds.customers[ds.txns[idx[0]].cust].id)
			}
			mean, sd := ds.stats(idx)
			if sd == 0 {
				break
			}
			limit := 0.97 * (mean + 3*sd)
			top := idx[0]
			for _, i := range idx {
				if ds.txns[i].cents > ds.txns[top].cents {
					top = i
				}
			}
			t := &ds.txns[top]
			if float64(t.cents) < limit {
				break
			}
			v := uniform(r, 0.75, 0.95) * (mean + 3*sd)
			lowered := max(1, int64(math.Round(v)))
			switch {
			case int(t.typ) == tWithdrawal && int(t.channel) == chATM:
				lowered = max(2000, lowered/2000*2000)
			case int(t.typ) == tWithdrawal:
				lowered = max(100, lowered/100*100)
			}
			if lowered >= t.cents {
				lowered = max(1, int64(math.Round(v)))
			}
			t.cents = lowered
			ds.tamed++
		}
	}
	return nil
}

// pickAccountHolder chooses the owner of account 123456: the customer with
// the most transactions (the lowest number on ties).
func (ds *dataset) pickAccountHolder() error {
	counts := make([]int, len(ds.customers))
	for _, t := range ds.txns {
		if t.acct == 0 {
			counts[t.cust]++
		}
	}
	ds.holder = 0
	for i, n := range counts {
		if n > counts[ds.holder] {
			ds.holder = i
		}
	}
	if counts[ds.holder] < 20 {
		return fmt.Errorf("bankgen: the busiest account has only %d transactions", counts[ds.holder])
	}
	return nil
}

// injectAnomalies turns one transaction of each of about 50 busy customers
// into an unusually large withdrawal or international transfer, far above
// the customer's mean + 3 sd. A few land in the as-of month and in each
// region in the last full month, so that recent questions find some.
func (ds *dataset) injectAnomalies() error {
	r := ds.rng(streamAnomalies)
	by := ds.txnsByCustomer()
	used := make([]bool, len(ds.customers))
	used[ds.holder] = true
	eligible := func(c int32, region int) bool {
		return !used[c] && len(by[c]) >= anomalyMinTxns && (region < 0 || ds.customers[c].region == region)
	}
	asOf := ds.opts.AsOf
	recent := time.Date(asOf.Year(), asOf.Month(), 1, 0, 0, 0, 0, time.UTC)
	if asOf.Day() < 8 {
		recent = asOf.AddDate(0, 0, -29)
	}
	monthStart := time.Date(asOf.Year(), asOf.Month(), 1, 0, 0, 0, 0, time.UTC)
	lastMonth := monthStart.AddDate(0, -1, 0)
	type slot struct {
		from, to int64
		region   int
	}
	total := ds.scaled(baseAnomalies)
	var slots []slot
	for range ds.scaled(3) {
		slots = append(slots, slot{recent.Unix(), ds.endTime.Unix(), -1})
	}
	for range ds.scaled(2) {
		for reg := range regions {
			slots = append(slots, slot{lastMonth.Unix(), monthStart.Unix(), reg})
		}
	}
	for len(slots) < total {
		slots = append(slots, slot{ds.start, ds.endTime.Unix(), -1})
	}
	var cands []int32
	for _, s := range slots {
		lo := sort.Search(len(ds.txns), func(i int) bool { return ds.txns[i].at >= s.from })
		hi := sort.Search(len(ds.txns), func(i int) bool { return ds.txns[i].at >= s.to })
		cands = cands[:0]
		for i := lo; i < hi; i++ {
			if eligible(ds.txns[i].cust, s.region) {
				cands = append(cands, int32(i))
			}
		}
		if len(cands) == 0 {
			for i := range ds.txns {
				if eligible(ds.txns[i].cust, -1) {
					cands = append(cands, int32(i))
				}
			}
		}
		if len(cands) == 0 {
			return fmt.Errorf("bankgen: no customer left with %d transactions for an anomaly", anomalyMinTxns)
		}
		i := cands[r.IntN(len(cands))]
		c := ds.txns[i].cust
		used[c] = true
		ds.inject(r, i, by[c])
	}
	for _, t := range ds.txns {
		if t.injected {
			ds.anomalies = append(ds.anomalies, t.id)
		}
	}
	return nil
}

func (ds *dataset) inject(r *rand.Rand, at int32, idx []int32) {
	t := &ds.txns[at]
	c := &ds.customers[t.cust]
	t.injected = true
	var top int64
	for _, i := range idx {
		if i != at && ds.txns[i].cents > top {
			top = ds.txns[i].cents
		}
	}
	sunday := time.Unix(t.at, 0).UTC().Weekday() == time.Sunday // branches are closed
	if r.Float64() < 0.55 && !sunday {
		t.typ, t.channel = tWithdrawal, chBranch
		t.counterparty = "Branch " + cities[c.region][c.city]
	} else {
		t.typ, t.channel = tIntl, chOnline
		if r.Float64() < 0.3 && !sunday {
			t.channel = chBranch
		}
		t.counterparty = foreignBeneficiary(r)
	}
	x := float64(top) * uniform(r, 6, 12)
	for {
		if int(t.typ) == tWithdrawal {
			t.cents = int64(math.Ceil(x/10000)) * 10000 // whole hundreds
		} else {
			t.cents = int64(math.Ceil(x/100))*100 + int64(r.IntN(100))
		}
		mean, sd := ds.stats(idx)
		if float64(t.cents) > 1.1*(mean+3*sd) {
			return
		}
		x *= 1.5
	}
}

// checkAnomalies applies find_anomalies' rule to the whole data set: the
// injected transactions, and only they, must be flagged.
func (ds *dataset) checkAnomalies() error {
	flagged := 0
	for _, idx := range ds.txnsByCustomer() {
		if len(idx) == 0 {
			continue
		}
		mean, sd := ds.stats(idx)
		for _, i := range idx {
			t := ds.txns[i]
			hit := sd > 0 && float64(t.cents) > mean+3*sd
			if hit != t.injected {
				return fmt.Errorf("bankgen: transaction %s: flagged %v, injected %v", t.id, hit, t.injected)
			}
			if hit {
				flagged++
			}
		}
	}
	if flagged != len(ds.anomalies) {
		return fmt.Errorf("bankgen: %d transactions flagged, %d injected", flagged, len(ds.anomalies))
	}
	return nil
}

// assignAccounts numbers every account with a distinct six-digit id;
// account 123456 is the busiest customer's main account.
func (ds *dataset) assignAccounts() error {
	r := ds.rng(streamAccounts)
	const lo, hi = 100000, 1000000
	used := make([]bool, hi)
	used[123456] = true
	free := hi - lo - 1
	for i := range ds.customers {
		c := &ds.customers[i]
		for j := range c.accounts {
			if i == ds.holder && j == 0 {
				c.accounts[j] = "123456"
				continue
			}
			if free == 0 {
				return fmt.Errorf("bankgen: ran out of six-digit account ids")
			}
			n := lo + r.IntN(hi-lo)
			for used[n] {
				n = lo + r.IntN(hi-lo)
			}
			used[n] = true
			free--
			c.accounts[j] = strconv.Itoa(n)
		}
	}
	return nil
}

// --- loan applications ---

var (
	loanWeekday = []float64{0.15, 1, 1, 1, 1, 1, 0.35}
	loanSeason  = []float64{0, 1, 1, 1.2, 1.2, 1.2, 1, 0.9, 0.9, 1, 1, 1, 0.75}
	// Approval: the score at which half of the applications would be
	// approved, by loan type (personal, mortgage, auto, business).
	loanCutoff = []float64{650, 705, 610, 690}
	// Decision delay range in hours, by loan type.
	loanDelay = [][2]float64{{2, 144}, {168, 1080}, {1, 72}, {48, 504}}
	// Requested amount range in dollars and its rounding, by loan type.
	loanAmount = [][3]float64{{1000, 40000, 100}, {80000, 1200000, 1000}, {5000, 75000, 100}, {10000, 500000, 500}}
	// Credit score by risk rating: mean and spread.
	scoreByRisk = [][2]float64{{735, 50}, {665, 55}, {585, 65}}
)

func (ds *dataset) genLoans() error {
	r := ds.rng(streamLoans)
	n := ds.scaled(baseLoans)
	dw := make([]float64, ds.days)
	for d := range dw {
		t := ds.date(d)
		dw[d] = float64(ds.kByDay[d]) * loanWeekday[t.Weekday()] * loanSeason[t.Month()]
	}
	days := newCumulative(dw)
	end := ds.endTime.Unix()
	ds.loans = make([]loan, n)
	for i := range ds.loans {
		l := &ds.loans[i]
		d := days.pick(r)
		ci := r.IntN(ds.kByDay[d])
		c := &ds.customers[ci]
		l.cust = int32(ci)
		l.applied = ds.timeOnOrAfter(r, d, c.acquired)
		if c.segment == segBusiness {
			l.typ = pick(r, []float64{0.25, 0.1, 0.1, 0.55})
		} else {
			l.typ = pick(r, []float64{0.42, 0.22, 0.28, 0.08})
		}
		a := loanAmount[l.typ]
		dollars := logUniform(r, a[0], a[1])
		l.cents = int64(math.Round(dollars/a[2])) * int64(a[2]) * 100
		sc := scoreByRisk[c.risk]
		l.score = int64(max(300, min(850, math.Round(sc[0]+sc[1]*r.NormFloat64()))))
		approve := 0.93 / (1 + math.Exp(-(float64(l.score)-loanCutoff[l.typ])/22))
		approved := r.Float64() < approve
		delay := int64(uniform(r, loanDelay[l.typ][0], loanDelay[l.typ][1]) * 3600)
		funding := int64(uniform(r, 24, 336) * 3600)
		funds := r.Float64() < 0.85
		l.decided = l.applied + delay
		switch {
		case l.decided >= end:
			l.status, l.decided = "submitted", 0
		case !approved:
			l.status = "rejected"
		case funds && l.decided+funding < end:
			l.status = "funded"
		default:
			l.status = "approved"
		}
	}
	slices.SortStableFunc(ds.loans, func(a, b loan) int { return cmp.Compare(a.applied, b.applied) })
	w := width(n, 6)
	for i := range ds.loans {
		ds.loans[i].id = fmt.Sprintf("loan-%0*d", w, i+1)
	}
	return nil
}

// --- interactions ---

var (
	svcWeekday = []float64{0.4, 1.15, 1.0, 1.0, 1.0, 0.95, 0.55}
	svcSeason  = []float64{0, 1.15, 1, 1, 1, 1, 1, 0.9, 0.9, 1, 1, 1, 1.25}
	// Channels: email, call, chat, social.
	svcChannelWeights = []float64{0.2, 0.38, 0.32, 0.1}
	svcResolved       = []float64{0.68, 0.86, 0.80, 0.52}
	svcMinutes        = []float64{24, 9, 14, 7} // median handle minutes
	// Topics: card, loan, account, fraud, fees, other.
	topicWeights = []float64{0.24, 0.12, 0.24, 0.09, 0.14, 0.17}
	// Sentiment (positive, neutral, negative) by topic: fraud skews negative.
	sentimentByTopic = [][]float64{
		{0.25, 0.45, 0.30},
		{0.30, 0.50, 0.20},
		{0.30, 0.50, 0.20},
		{0.10, 0.25, 0.65},
		{0.15, 0.35, 0.50},
		{0.30, 0.55, 0.15},
	}
)

func (ds *dataset) genInteractions() error {
	r := ds.rng(streamInteractions)
	n := ds.scaled(baseInteractions)
	dw := make([]float64, ds.days)
	for d := range dw {
		t := ds.date(d)
		dw[d] = float64(ds.kByDay[d]) * svcWeekday[t.Weekday()] * svcSeason[t.Month()]
	}
	days := newCumulative(dw)
	ds.interactions = make([]interaction, n)
	tw := make([]float64, len(topicWeights))
	for i := range ds.interactions {
		it := &ds.interactions[i]
		d := days.pick(r)
		ci := r.IntN(ds.kByDay[d])
		it.cust = int32(ci)
		it.at = ds.timeOnOrAfter(r, d, ds.customers[ci].acquired)
		it.channel = pick(r, svcChannelWeights)
		copy(tw, topicWeights)
		if ds.date(d).Month() == time.December {
			tw[topicFraud] *= 1.6
			tw[topicCard] *= 1.3
		}
		it.topic = pick(r, tw)
		it.sentiment = pick(r, sentimentByTopic[it.topic])
		p := svcResolved[it.channel]
		switch it.topic {
		case topicFraud:
			p *= 0.85
		case topicLoan:
			p *= 0.9
		}
		switch it.sentiment {
		case sentNegative:
			p *= 0.8
		case sentPositive:
			p *= 1.08
		}
		it.resolved = r.Float64() < min(p, 0.98)
		m := lognormal(r, svcMinutes[it.channel], 0.5)
		switch it.topic {
		case topicFraud:
			m *= 1.6
		case topicLoan:
			m *= 1.3
		}
		if !it.resolved {
			m *= 1.25
		}
		it.minutes = int64(math.Round(max(1, min(180, m)) * 100))
	}
	slices.SortStableFunc(ds.interactions, func(a, b interaction) int { return cmp.Compare(a.at, b.at) })
	w := width(n, 6)
	for i := range ds.interactions {
		ds.interactions[i].id = fmt.Sprintf("int-%0*d", w, i+1)
	}
	return nil
}

// --- rows in the neutral layout of schema.go ---

func (ds *dataset) customerRow(i int, dst []any) {
	c := &ds.customers[i]
	fill(dst, c.id, c.fullName, c.email, c.ssn, c.birth, regions[c.region], segments[c.segment],
		ds.dayStart(c.joinDay), risks[c.risk])
}

func (ds *dataset) transactionRow(i int, dst []any) {
	t := &ds.txns[i]
	c := &ds.customers[t.cust]
	fill(dst, t.id, c.accounts[t.acct], c.id, t.at, txnTypes[t.typ], t.cents,
		currencies[c.currencies[t.acct]], txnChannels[t.channel], regions[c.region], t.counterparty)
}

func (ds *dataset) loanRow(i int, dst []any) {
	l := &ds.loans[i]
	c := &ds.customers[l.cust]
	var decided any
	if l.decided != 0 {
		decided = l.decided
	}
	fill(dst, l.id, c.id, loanTypes[l.typ], l.cents, l.status, l.score, l.applied, decided, regions[c.region])
}

func (ds *dataset) campaignRow(i int, dst []any) {
	c := &ds.campaigns[i]
	fill(dst, c.id, c.name, campChannels[c.channel], ds.dayStart(c.start), ds.dayStart(c.end), c.budget,
		c.impressions, c.clicks, c.conversions)
}

func (ds *dataset) acquisitionRow(i int, dst []any) {
	c := &ds.customers[i]
	var id, name any
	if c.campaign >= 0 {
		id, name = ds.campaigns[c.campaign].id, ds.campaigns[c.campaign].name
	}
	fill(dst, c.id, c.acquired, id, name, c.acqChannel, regions[c.region], segments[c.segment])
}

func (ds *dataset) interactionRow(i int, dst []any) {
	it := &ds.interactions[i]
	fill(dst, it.id, ds.customers[it.cust].id, it.at, serviceChannels[it.channel], topics[it.topic],
		sentiments[it.sentiment], it.resolved, it.minutes)
}

func fill(dst []any, values ...any) { copy(dst, values) }

// Data is a generated mesh held in memory, ready to be written as SQLite
// files or loaded into PostgreSQL any number of times. It is read-only and
// safe for concurrent use.
type Data struct {
	domains  [][]*table
	manifest Manifest
}

// Generate builds the mesh opts describe (opts.DataDir is not used).
func Generate(ctx context.Context, opts Options) (*Data, error) {
	opts, err := opts.normalized()
	if err != nil {
		return nil, err
	}
	ds, err := generate(ctx, opts)
	if err != nil {
		return nil, err
	}
	domains := ds.tables()
	return &Data{domains: domains, manifest: ds.manifest(domains)}, nil
}

// Manifest describes the data.
func (d *Data) Manifest() Manifest {
	m := d.manifest
	m.Tables = slices.Clone(m.Tables)
	m.InjectedAnomalies = slices.Clone(m.InjectedAnomalies)
	return m
}
