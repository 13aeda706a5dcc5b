"""TinyWorld's fixed vocabulary and common sense: word lists, animal kinds, jobs, causal rules.

Everything here is the same for every seed; a seed only decides which person gets which job, which
town, which pet. Lists are kept short on purpose: the whole corpus must stay within a few thousand
distinct words so that a 1-3M parameter model can learn it.
"""

from __future__ import annotations

import dataclasses

FEMALE_NAMES = (
    "Anna", "Clara", "Emma", "Grace", "Ivy", "Kate", "Mia", "Olive", "Rosa", "Tara", "Vera", "Yara",
    "Zoe", "Bella", "Dora", "Fay", "Hana", "Jade", "Lila", "Nina", "Pia", "Ruth", "Tess", "Uma",
    "Alma", "Cleo", "Edith", "Gina", "Iris", "Kira", "Maya", "Rita", "Tina", "Wendy", "Alice",
    "Carmen", "Elena", "Greta", "Ingrid", "Karen", "Marta", "Nora", "Petra", "Sofia", "Viola",
    "Beth",
    "Flora", "Heidi", "Julia", "Laura", "Nadia", "Paula", "Stella", "Wanda", "Diana", "Freya",
    "Hazel", "June", "Lena", "Nell", "Priya", "Sara", "Agnes", "Bianca", "Celia", "Elsa", "Frida",
    "Gemma", "Helen", "Irene", "Lucy", "Mabel", "Naomi", "Rhea", "Selma", "Thea", "Vicky", "Zelda",
)
MALE_NAMES = (
    "Ben", "David", "Felix", "Hugo", "Jack", "Leo", "Noah", "Paul", "Sam", "Umar", "Will", "Adam",
    "Carl", "Eli", "Gus", "Ian", "Kai", "Omar", "Quinn", "Seth", "Victor", "Wes", "Yusuf", "Boris",
    "Dean", "Frank", "Harry", "Joel", "Liam", "Nils", "Pedro", "Simon", "Zack", "Bruno", "Dylan",
    "Finn", "Henry", "Jonas", "Lucas", "Oscar", "Ralph", "Theo", "Walter", "Abel", "Cyrus", "Emil",
    "Gavin", "Igor", "Kurt", "Milo", "Otto", "Reza", "Tomas", "Vince", "Arlo", "Colin", "Ezra",
    "Glen", "Isaac", "Karl", "Mark", "Owen", "Rolf", "Tom", "Anton", "Basil", "Cedric", "Dennis",
    "Edgar", "Fabian", "George", "Hector", "Ivan", "Jasper", "Louis", "Martin", "Nico", "Ruben",
)
PET_NAMES = (
    "Rex", "Biscuit", "Pepper", "Luna", "Shadow", "Coco", "Rusty", "Ziggy", "Pip", "Mango", "Fudge",
    "Socks", "Whiskers", "Nutmeg", "Pebble", "Bramble", "Clover", "Tango", "Toffee", "Bubbles",
    "Dotty", "Patch", "Sprout", "Hopper", "Marble", "Ginger", "Button", "Cricket", "Dusty", "Echo",
    "Flash", "Gizmo", "Hazelnut", "Jelly", "Kiwi", "Lucky", "Muffin", "Nibbles", "Oreo", "Peanut",
    "Pickles", "Rocky", "Sandy", "Tiger", "Waffles", "Zorro", "Acorn", "Blaze", "Cinder", "Domino",
    "Fern", "Goldie", "Honey", "Inky", "Jazz", "Lolly", "Misty", "Noodle", "Pumpkin", "Quill",
    "Ripple", "Sunny", "Thistle", "Velvet", "Willow", "Yoyo", "Bingo", "Cookie", "Dash", "Fizz",
)
PLACE_NAMES = (
    "Millbrook", "Oakton", "Riverby", "Stonefield", "Ashford", "Brightwater", "Cedarvale",
    "Dunmore",
    "Elmstead", "Fairhaven", "Glenrock", "Highmoor", "Ivydale", "Kingsbridge", "Lakeside",
    "Maplewood", "Northcliff", "Oldport", "Pinecrest", "Redhill", "Sandbay", "Thornbury",
    "Westbrook", "Willowby", "Yarrow", "Amberley", "Birchwood", "Copperhill", "Deepdale",
    "Eastwick",
    "Foxley", "Greenholm", "Hollowmere", "Larkspur", "Moorfield", "Nettlebed", "Sunnyvale",
    "Tidewell", "Underhill", "Windmere",
)
# Syllables for names beyond the lists above (only the large sizes need them).
NAME_SYLLABLES = ("ka", "lo", "mi", "ra", "te", "su", "no", "vi", "da", "ben", "lin", "mar", "tor",
                  "sa", "el", "ru", "fa", "go", "ha", "ji")

# job -> what people with that job do (present tense, third person).
JOBS = {
    "baker": "bakes bread", "farmer": "grows wheat", "teacher": "teaches children",
    "doctor": "helps sick people", "painter": "paints pictures", "fisher": "catches fish",
    "builder": "builds houses", "driver": "drives a bus", "cook": "cooks meals",
    "singer": "sings songs", "gardener": "grows flowers", "tailor": "sews clothes",
    "pilot": "flies planes", "writer": "writes books", "carpenter": "makes tables",
    "librarian": "looks after books", "potter": "makes pots", "sailor": "sails ships",
    "nurse": "cares for patients", "vet": "cares for sick animals",
}
FOODS = ("apples", "bread", "cheese", "soup", "rice", "fish", "cake", "pears", "eggs", "honey",
         "carrots", "plums", "noodles", "pie", "beans", "grapes", "cherries", "potatoes", "nuts",
         "oranges")
COLOURS = ("red", "blue", "green", "yellow", "white", "black", "brown", "purple", "grey", "pink")
ANIMAL_COLOURS = ("brown", "black", "white", "grey", "golden")
# hobby (a gerund) -> the verb phrase used in stories.
HOBBIES = {
    "swimming": "swims", "painting": "paints", "reading": "reads", "dancing": "dances",
    "singing": "sings", "cooking": "cooks", "running": "runs", "fishing": "fishes",
    "drawing": "draws", "gardening": "gardens", "climbing": "climbs", "knitting": "knits",
}
THINGS = ("ball", "kite", "hat", "cup", "book", "bike", "lamp", "box", "umbrella", "scarf", "bag",
          "clock", "boat", "drum", "chair", "vase")
LANDMARKS = ("river", "lake", "hill", "forest", "market", "bridge", "castle", "harbour", "tower",
             "mill", "garden", "library", "station")
PLACE_KINDS = ("town", "village", "city")
# weather word -> a clause saying it usually happens there.
WEATHER = {"rainy": "it often rains", "sunny": "the sun often shines", "snowy": "it often snows",
           "windy": "the wind often blows", "foggy": "fog often fills the streets"}


@dataclasses.dataclass(frozen=True)
class Species:
    """General knowledge about one kind of animal (true for every seed)."""

    name: str
    plural: str
    sound: str  # the verb: "barks"
    eats: str  # a food word
    legs: int
    can_fly: bool
    can_swim: bool
    lives: str  # where such animals usually live
    big: bool


SPECIES = {
    s.name: s for s in (
        Species("dog", "dogs", "barks", "bones", 4, False, True, "house", False),
        Species("cat", "cats", "meows", "fish", 4, False, False, "house", False),
        Species("cow", "cows", "moos", "grass", 4, False, False, "farm", True),
        Species("horse", "horses", "neighs", "hay", 4, False, True, "farm", True),
        Species("sheep", "sheep", "baas", "grass", 4, False, False, "field", True),
        Species("duck", "ducks", "quacks", "seeds", 2, True, True, "pond", False),
        Species("owl", "owls", "hoots", "mice", 2, True, False, "tree", False),
        Species("rabbit", "rabbits", "squeaks", "carrots", 4, False, False, "field", False),
        Species("hen", "hens", "clucks", "seeds", 2, False, False, "farm", False),
        Species("pig", "pigs", "oinks", "apples", 4, False, True, "farm", True),
        Species("goat", "goats", "bleats", "grass", 4, False, False, "hill", True),
        Species("parrot", "parrots", "squawks", "seeds", 2, True, False, "tree", False),
        Species("frog", "frogs", "croaks", "flies", 4, False, True, "pond", False),
    )
}


@dataclasses.dataclass(frozen=True)
class Rule:
    """A causal rule: when `cause` happens, `effect` follows.

    `subject` says what the rule is about ("person", "place" or "animal"). The story forms are
    past-tense clauses with slots {s} (subject name), {pos} (his/her), {food}, {thing}, {friend},
    {owner}; `general` states the rule as a timeless fact; `question`/`answer` quiz it.
    """

    name: str
    subject: str
    cause: str
    effect: str
    general: tuple[str, ...]
    question: str
    answer: str


RULES = (
    Rule("rain", "place", "it rained in {s}", "the ground in {s} was wet",
         ("When it rains, the ground gets wet.", "Rain makes the ground wet."),
         "What happens to the ground when it rains?", "it gets wet"),
    Rule("snow", "place", "it snowed all night in {s}", "the roofs in {s} were white",
         ("When it snows, the roofs turn white.", "Snow makes the roofs white."),
         "What colour do the roofs turn when it snows?", "white"),
    Rule("sun", "place", "the sun shone on the snow in {s}", "the snow in {s} melted",
         ("When the sun shines on snow, the snow melts.", "Sunshine melts snow."),
         "What happens to snow when the sun shines on it?", "it melts"),
    Rule("wind", "place", "a strong wind blew through {s}", "leaves fell from the trees in {s}",
         ("When a strong wind blows, leaves fall from the trees.",
          "Strong wind makes leaves fall."),
         "What falls from the trees when a strong wind blows?", "leaves"),
    Rule("dark", "place", "night came to {s}", "people in {s} turned on their lamps",
         ("When night comes, people turn on their lamps.", "At night people light their lamps."),
         "What do people turn on when night comes?", "their lamps"),
    Rule("hungry", "person", "{s} was hungry", "{s} ate some {food}",
         ("When people are hungry, they eat.", "Hungry people eat food."),
         "What do people do when they are hungry?", "they eat"),
    Rule("thirsty", "person", "{s} was thirsty", "{s} drank a glass of water",
         ("When people are thirsty, they drink water.", "Thirsty people drink water."),
         "What do people drink when they are thirsty?", "water"),
    Rule("tired", "person", "{s} was very tired", "{s} went to bed early",
         ("When people are tired, they go to bed.", "Tired people go to sleep."),
         "Where do people go when they are tired?", "to bed"),
    Rule("cold", "person", "{s} felt cold", "{s} put on a warm coat",
         ("When people feel cold, they put on a coat.", "A warm coat helps when you are cold."),
         "What do people put on when they feel cold?", "a coat"),
    Rule("glass", "person", "{s} dropped a glass", "the glass broke into pieces",
         ("When a glass is dropped, it breaks.", "Glass breaks when it falls."),
         "What happens to a glass when it is dropped?", "it breaks"),
    Rule("lost", "person", "{s} lost {pos} {thing}", "{s} felt sad",
         ("When people lose something, they feel sad.", "Losing things makes people sad."),
         "How do people feel when they lose something?", "sad"),
    Rule("gift", "person", "{friend} gave {s} a present", "{s} smiled",
         ("When people get a present, they smile.", "A present makes people smile."),
         "What do people do when they get a present?", "they smile"),
    Rule("late", "person", "{s} was late for work", "{s} ran all the way to work",
         ("When people are late, they run.", "People who are late hurry."),
         "What do people do when they are late?", "they run"),
    Rule("mud", "person", "{s} got mud on {pos} hands", "{s} washed {pos} hands",
         ("When hands are dirty, people wash them.", "Dirty hands need washing."),
         "What do people do when their hands are dirty?", "they wash them"),
    Rule("sick", "person", "{s} caught a bad cold", "{s} went to see a doctor",
         ("When people are sick, they see a doctor.", "Sick people visit a doctor."),
         "Who do people see when they are sick?", "a doctor"),
    Rule("pet", "animal", "{s} was hungry", "{owner} fed {s}",
         ("When a pet is hungry, its owner feeds it.", "Owners feed their hungry pets."),
         "Who feeds a hungry pet?", "its owner"),
)
RULES_BY_NAME = {rule.name: rule for rule in RULES}

# Words for reviews and posts (the sentiment sets): polarity is the label's only source.
POSITIVE_WORDS = ("good", "great", "lovely", "nice", "wonderful", "tasty", "friendly", "clean",
                  "happy", "fun", "fresh", "warm")
NEGATIVE_WORDS = ("bad", "awful", "poor", "nasty", "horrible", "bland", "rude", "dirty", "sad",
                  "boring", "stale", "cold")

# Which of those words suit which kind of thing: kind -> (positive, negative).
OPINION_WORDS = {
    "food": (("tasty", "fresh", "lovely", "good", "great", "nice", "wonderful", "warm"),
             ("bland", "stale", "awful", "bad", "horrible", "nasty", "cold", "poor")),
    "people": (("friendly", "lovely", "good", "great", "nice", "wonderful", "happy", "warm"),
               ("rude", "awful", "bad", "poor", "horrible", "nasty", "cold", "boring")),
    "event": (("fun", "lovely", "great", "good", "nice", "wonderful"),
              ("boring", "awful", "bad", "poor", "horrible", "sad")),
    "place": (("lovely", "nice", "wonderful", "great", "good", "clean", "fun", "happy"),
              ("dirty", "boring", "awful", "bad", "poor", "horrible", "sad", "cold")),
}

# Numbers as words, for ages, counts and arithmetic.
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve")


def article(word: str) -> str:
    """'a' or 'an' before `word`."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def with_article(word: str) -> str:
    return f"{article(word)} {word}"
