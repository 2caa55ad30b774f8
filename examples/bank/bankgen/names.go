package bankgen

// Word lists for generated values. Order matters: the generator indexes
// them with random numbers, so changing a list changes the data (bump
// Version).

var (
	regions  = []string{"north-america", "europe", "asia-pacific"}
	segments = []string{"mass", "affluent", "private", "business"}
	risks    = []string{"low", "medium", "high"}

	txnTypes    = []string{"deposit", "withdrawal", "transfer", "card_payment", "international_transfer"}
	txnChannels = []string{"branch", "online", "mobile", "atm"}
	currencies  = []string{"USD", "EUR", "GBP"}

	loanTypes    = []string{"personal", "mortgage", "auto", "business"}
	campChannels = []string{"email", "social", "search", "tv", "branch"}

	serviceChannels = []string{"email", "call", "chat", "social"}
	topics          = []string{"card", "loan", "account", "fraud", "fees", "other"}
	sentiments      = []string{"positive", "neutral", "negative"}
)

// Indexes into the lists above, for readable generator code.
const (
	regionNA, regionEU, regionAPAC = 0, 1, 2

	segMass, segAffluent, segPrivate, segBusiness = 0, 1, 2, 3

	tDeposit, tWithdrawal, tTransfer, tCard, tIntl = 0, 1, 2, 3, 4

	chBranch, chOnline, chMobile, chATM = 0, 1, 2, 3

	topicCard, topicLoan, topicAccount, topicFraud, topicFees, topicOther = 0, 1, 2, 3, 4, 5

	sentPositive, sentNeutral, sentNegative = 0, 1, 2
)

var firstNames = []string{
	"Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella", "Lucas",
	"Mia", "Mateo", "Amelia", "Ethan", "Harper", "James", "Evelyn", "Benjamin", "Aria", "Henry",
	"Chloe", "Leo", "Ella", "Daniel", "Grace", "Samuel", "Zoe", "David", "Nora", "Omar",
	"Hannah", "Yuki", "Priya", "Arjun", "Mei", "Wei", "Sofia", "Luca", "Elena", "Marco",
	"Fatima", "Ali", "Ines", "Hugo", "Lena", "Jonas", "Clara", "Felix", "Aisha", "Kenji",
	"Ana", "Diego", "Maya", "Ravi", "Sara", "Tomas", "Ingrid", "Lars", "Chen", "Hana",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White",
	"Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green",
	"Muller", "Schmidt", "Dubois", "Rossi", "Bianchi", "Fernandez", "Lopez", "Silva", "Novak", "Jansen",
	"Nielsen", "Berg", "Kowalski", "Murphy", "OBrien", "Tanaka", "Sato", "Kim", "Park", "Wang",
	"Li", "Zhang", "Patel", "Singh", "Sharma", "Nguyen", "Tran", "Cohen", "Khan", "Okafor",
}

var emailDomains = []string{"example.com", "example.net", "example.org"}

var employers = []string{
	"Northwind Traders", "Contoso Ltd", "Fabrikam Inc", "Globex Corp", "Initech", "Umbrella Health",
	"Stark Logistics", "Wayne Foods", "Acme Manufacturing", "Blue Harbor Shipping", "Cedar Schools",
	"Evergreen Energy", "Summit Consulting", "Riverdale Hospital", "Orion Software", "Pioneer Retail",
	"Atlas Construction", "Lumen Media", "Harbor City Council", "Vertex Pharma",
}

var merchants = []string{
	"FreshMart Grocery", "City Coffee", "QuickFuel", "MegaStore", "BookNook", "StreamFlix",
	"Urban Outfit", "Pharma Plus", "Metro Transit", "SkyHigh Airlines", "Harbor Hotel", "Pizza Palace",
	"TechWorld Electronics", "Green Garden Center", "FitLife Gym", "Corner Bakery", "ShopOnline",
	"RideNow", "Cinema City", "Home & Co", "PetPals", "Sushi Bar", "Gadget Hub", "Mobile Telecom",
}

var cities = [][]string{
	regionNA:   {"New York", "Chicago", "Toronto", "Boston", "Seattle", "Austin", "Denver", "Atlanta"},
	regionEU:   {"London", "Paris", "Berlin", "Madrid", "Milan", "Amsterdam", "Dublin", "Vienna"},
	regionAPAC: {"Singapore", "Sydney", "Tokyo", "Hong Kong", "Seoul", "Melbourne", "Auckland", "Mumbai"},
}

var countries = []string{
	"United Kingdom", "Germany", "France", "Spain", "Italy", "Netherlands", "United States", "Canada",
	"Mexico", "Japan", "Singapore", "Australia", "India", "Philippines", "Brazil", "South Africa",
	"United Arab Emirates", "Switzerland",
}

// Campaign names by season of the start month (winter, spring, summer,
// autumn), then names for any season. "Summer Special Offer" is given to
// one summer campaign on purpose, so it is in no list.
var seasonalCampaignNames = [4][]string{
	{"New Year Savings Kickstart", "Winter Cashback Bonus", "Holiday Card Rewards", "January Fresh Start",
		"Festive Travel Card", "Winter Mortgage Rate Lock"},
	{"Spring Into Savings", "Tax Season Helper", "Spring Home Buyer Event", "Easter Family Saver",
		"Spring Auto Loan Sale", "Spring Clean Your Finances"},
	{"Summer Travel Money", "Sunshine Savings Boost", "Summer Student Account", "Back to School Bundle",
		"Vacation Card Cashback", "Midsummer Rate Bonus"},
	{"Autumn Savings Drive", "Fall Refinance Week", "Harvest Rate Bonus", "Autumn Premium Upgrade",
		"Year End Business Review", "Autumn Auto Loan Sale"},
}

var genericCampaignNames = []string{
	"Refer a Friend Bonus", "Digital Banking Switch", "Premier Account Launch", "Small Business Starter",
	"First Home Mortgage Guide", "Smart Saver Challenge", "Green Loan Promotion", "Credit Builder Card",
	"Wealth Review Invitation", "Mobile App Cashback", "Paperless Statement Push", "Family Banking Bundle",
	"High Yield Savings Launch", "Zero Fee Transfers", "Rewards Card Upgrade", "Student Banking Welcome",
	"Retirement Planning Seminar", "Contactless Card Launch", "Payroll Switch Incentive", "Premium Metal Card",
	"Business Credit Line Offer", "Instant Loan Approval Week", "Online Account Opening Bonus", "Branch Open House",
	"Loyalty Rate Bonus",
}

// SummerSpecialOffer is the campaign the mesh document promises.
const SummerSpecialOffer = "Summer Special Offer"
