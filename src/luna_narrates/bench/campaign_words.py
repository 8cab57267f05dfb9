"""The word lists and sentence templates behind the synthetic campaigns of `bench.campaign`.

Kept apart so the generator reads as logic. Two rules hold for every string here, because the
benchmark's needles rely on them: no filler text contains "dead" or "betray" (only a planted
death or betrayal may), and no template names a character, place or item outright (the names
come from the slots, so the generator knows exactly where each one occurs).
"""

from __future__ import annotations

from collections.abc import Iterable

from luna_narrates.agents.schemas import StoryFrame

PROTAGONIST = "Kael"
FRAME = StoryFrame(
    title="The Ashen Roads",
    genre="fantasy",
    setting="The river valleys from Quenmoor to Tolvaring, where four factions quarrel over "
    "trade routes and old relics",
    premise="Kael, a sellsword owed money by half the valley, wanders from town to town taking "
    "work, keeping friends and making enemies.",
    protagonist="Kael, a sellsword with a long memory and few friends",
)

PLACES = (
    "Quenmoor",
    "Vaskerel",
    "Orrindale",
    "Brennach",
    "Ystrahal",
    "Kelvadra",
    "Moruvane",
    "Dunmarrow",
    "Ilvenhold",
    "Caerlith",
    "Zenobre",
    "Tolvaring",
)
FACTIONS = ("Ashen Hand", "Velvet Knives", "Order of Tharn", "Saltborn Syndicate")
MATERIALS = (
    "Obsidian", "Silver", "Amber", "Bone", "Ivory", "Jade", "Copper", "Ashwood",
    "Moonstone", "Iron", "Glass", "Cobalt", "Crimson", "Gilded", "Frost", "Onyx",
)  # fmt: skip
OBJECTS = (
    "Amulet", "Dagger", "Lantern", "Crown", "Chalice", "Compass", "Ring", "Mirror",
    "Horn", "Key", "Scroll", "Sceptre", "Mask", "Bell", "Circlet", "Flute",
)  # fmt: skip
EPITHET_WORDS = (
    "Grey", "Ember", "Hollow", "Salt", "Pale", "Thorn", "Silent", "Red",
    "Winter", "Lantern", "Raven", "Dusk", "Marsh", "Cinder", "Storm", "Quiet",
)  # fmt: skip
TITLES = (
    "Abbot", "Warden", "Widow", "Harper", "Pilgrim", "Magister", "Hound", "Oracle",
    "Captain", "Seer", "Tinker", "Ferryman", "Sister", "Huntsman", "Scribe", "Knight",
)  # fmt: skip

# Syllables for invented names and secret words: consonant clusters rare in English words.
ONSETS = (
    "V", "T", "K", "M", "S", "Dr", "Th", "Br", "Qu", "Z", "Y", "Ae", "Or", "Il", "Ess",
    "G", "R", "L", "N", "H",
)  # fmt: skip
NUCLEI = ("a", "e", "i", "o", "u", "ae", "y")
MIDS = ("rv", "ss", "nd", "lv", "th", "rr", "mb", "sk", "lt", "nn", "dr", "v", "r", "l", "n")
ENDINGS = ("a", "is", "en", "or", "ia", "ek", "an", "yth", "ul", "ira", "ane", "ow")

ROLES = (
    "the innkeeper", "a ferryman", "an old tinker", "a street child", "the toll keeper",
    "a wandering monk", "a fishwife", "the stable hand", "a drunk mercenary", "a grave pilgrim",
)  # fmt: skip
FOES = (
    "brigands", "cutthroats", "starving wolves", "river trolls", "marsh ghouls",
    "hired blades", "carrion birds", "bog goblins", "deserters", "tomb rats",
)  # fmt: skip
FOODS = (
    "barley stew", "smoked eel", "black bread", "roast mutton", "onion soup",
    "honey cakes", "salted pork", "baked trout", "turnip mash", "spiced lentils",
)  # fmt: skip
DRINKS = ("cider", "thin ale", "mulled wine", "nettle tea", "plum brandy", "goat milk")
WEATHER = (
    "rain drums on the roofs", "a cold wind comes off the hills", "fog hangs in the lanes",
    "the sun is pale and low", "sleet stings your face", "the air is thick and warm",
    "thunder rolls somewhere far off", "snow drifts down in slow flakes",
)  # fmt: skip
MOODS = ("weary", "cheerful", "anxious", "restless", "sullen", "hopeful", "grim", "amused")
GOODS = (
    "salt", "wool", "lamp oil", "arrows", "dried figs", "rope", "candles", "iron nails",
    "dyed cloth", "healing herbs",
)  # fmt: skip
TOPICS = (
    "the harvest", "the price of grain", "old wars", "the road tolls", "a missing goat",
    "the coming winter", "a wedding", "the river floods", "a songbird's omen", "bad dreams",
)  # fmt: skip
KILLERS = (
    "an assassin of the {faction}", "river brigands", "a marsh fever", "a collapsing bridge",
    "a wild boar", "poison in the wine", "a stray crossbow bolt", "a falling beam",
)  # fmt: skip
SECRET_TOPICS = (
    "vault word", "password of the north gate", "true name of the river spirit",
    "countersign of the night watch", "name of the smugglers' ship",
    "word that opens the sealed archive",
)  # fmt: skip

OPENINGS = (
    "You reach {place} as {weather}.",
    "Morning finds you in {place}, and {weather}.",
    "In {place}, {weather}, and the streets smell of smoke and wet stone.",
    "The bells of {place} ring the hour while {weather}.",
    "By the time you settle in {place}, {weather}.",
)
CLOSINGS = (
    "You make a note of everything and rest your tired feet.",
    "Night comes early, and you sleep with your sword close.",
    "The day ends quietly, which is its own kind of gift.",
    "You pull your cloak tight and think about tomorrow.",
    "Somewhere a dog barks, and the lamps go out one by one.",
)
GENERAL = (
    "Children chase a hoop through the puddles, shrieking with laughter.",
    "A cart loaded with {goods} rattles past, its driver half asleep.",
    "The smell of {food} drifts from an open window.",
    "Someone plays a reed pipe badly, then well, then badly again.",
    "Two merchants argue about the weight of a sack of {goods}.",
    "An old woman feeds crumbs to the pigeons and ignores you completely.",
    "A patrol in the colours of the {faction} marches by without a glance.",
    "Rumours say the {faction} has been buying up {goods} all season.",
    "Far away, in {place2}, they say the harvest failed again.",
    "A traveller fresh from {place2} complains about the roads.",
    "The wind carries the creak of a sign and the clatter of shutters.",
    "You count your coins twice and find the sum no kinder.",
    "A cat watches you from a wall as if it knows your name.",
    "Water drips from the eaves in a slow, steady rhythm.",
    "Somebody has chalked the mark of the {faction} on a doorway.",
    "Gossip in the square turns, as it always does, to the {item}.",
    "Nobody here seems to agree on where the {item} is kept these days.",
    "The old tales about the {item} grow taller with every telling.",
    "A beggar offers to sell you a map to {place2} for a single copper.",
    "Your boots are muddy, your back aches, and your purse is light.",
    "A bard in a patched coat sings about the founding of {place2}.",
    "Lanterns swing on their hooks, throwing light in restless circles.",
)
SCENES: dict[str, tuple[str, ...]] = {
    "travel": (
        "The road out of {old} climbs through birch woods and down into a wet valley.",
        "You share the road with a pilgrim bound for {place2}, who talks the whole way.",
        "A broken milestone still points toward {old}, the letters half worn away.",
        "Your horse throws a shoe near a ford, and you walk the last miles.",
        "You pass a shrine where travellers leave {food} for luck.",
        "The gates of {place} stand open, guarded by a bored sentry chewing straw.",
        "Crows follow you for an hour, then lose interest.",
        "At a crossroads, {char} waves from a wagon heading the other way.",
    ),
    "talk": (
        "{char} talks for a long time about {topic}, barely stopping for breath.",
        "You sit with {char} and {char2}, and the conversation drifts to {topic}.",
        "{char2} laughs at a joke that {char} swears is true.",
        "{char} asks whether you have ever been to {place2}.",
        "When you mention {topic}, {char2} goes quiet and stares into the fire.",
        "{char} insists that the {faction} cannot be trusted with anything.",
        "{char3} joins you uninvited and orders a round of {drink}.",
        "You learn little of use, but {char} is good company.",
        "{char2} tells a long story about a cousin in {place2}.",
    ),
    "meal": (
        "The innkeeper sets down a bowl of {food} and a mug of {drink}.",
        "You eat {food} at a long table beside {char}, who eats twice as fast.",
        "{char2} swears the {food} here is the best this side of {place2}.",
        "The {drink} is sour, but it is warm, and you drink it gladly.",
        "{char} shares a heel of bread and a story about {topic}.",
        "The common room is loud with dice, songs and the clatter of spoons.",
        "You pay two coppers for a second helping and do not regret it.",
        "{char3} raises a cup of {drink} to your health from across the room.",
    ),
    "fight": (
        "A band of {foe} blocks the lane, blades out and grinning.",
        "You draw steel as the {foe} rush you from the shadows.",
        "{char} fights at your side, quick and silent.",
        "The first of the {foe} goes down; the rest hesitate, then charge.",
        "You take a shallow cut on the arm and give back far worse.",
        "When the last of the {foe} flees, you lean on a wall to catch your breath.",
        "{char2} binds your arm with a strip of cloth and scolds you for taking risks.",
        "The watch arrives late, as the watch always does, and asks pointless questions.",
    ),
    "trade": (
        "You haggle with {char} over a bundle of {goods}.",
        "{char} wants three silver for the {goods}; you settle on two.",
        "The market of {place} is crowded with stalls of {goods} and {food}.",
        "{char2} offers to trade {goods} for news of {place2}.",
        "A scale is rigged, and you say so loudly enough for others to hear.",
        "{char} counts your coins with the care of a priest counting sins.",
        "You leave with {goods}, a lighter purse and a new grudge.",
        "{char3} tries to sell you a charm against fever, and you decline.",
    ),
    "weather": (
        "The storm keeps everyone indoors, and {place} turns grey and quiet.",
        "You wait out the weather by a smoky hearth with {char}.",
        "{char} predicts the rain will last three days, and is probably right.",
        "Water runs ankle-deep in the lanes of {place}.",
        "You mend your cloak while the wind tears at the shutters.",
        "{char2} brings in a wet dog and apologises to nobody.",
        "By evening the clouds break, and a thin red sunset spills over {place}.",
    ),
}
ACTIONS: dict[str, tuple[str, ...]] = {
    "travel": ("I set out for {place}.", "I take the road to {place}.", "I travel to {place}."),
    "talk": ("I sit down with {char} and listen.", "I ask {char} about {topic}."),
    "meal": ("I order a hot meal at the inn.", "I find somewhere to eat.", "I share a meal."),
    "fight": ("I draw my sword against the {foe}.", "I stand my ground against the {foe}."),
    "trade": ("I haggle with {char} over {goods}.", "I go to the market to buy {goods}."),
    "weather": ("I wait out the storm indoors.", "I stay by the fire until the rain stops."),
}
SUMMARIES: dict[str, str] = {
    "travel": "Kael travels from {old} to {place}.",
    "talk": "Kael spends the day in {place} talking about {topic}.",
    "meal": "Kael eats {food} at an inn in {place}.",
    "fight": "Kael fights off {foe} in {place}.",
    "trade": "Kael trades for {goods} in the market of {place}.",
    "weather": "Kael waits out bad weather in {place}.",
}
MOOD_LINE = "{char} seems {mood} today, and makes no effort to hide it."
INTRO_CHARACTER = (
    "You meet {name}, who lives in {home} and knows everyone worth knowing.",
    "A stranger named {name}, from {home}, offers you a seat and a cup.",
    "{name} of {home} introduces themself with a bow that is half a joke.",
)
INTRO_ITEM = (
    "{holder} carries the {item} openly, as if daring someone to ask about it.",
    "You notice the {item} in the keeping of {holder}, who guards it closely.",
)

# Planted events: each sentence holds every word of its needle.
DEATH = (
    "Word reaches you that {name} is dead, killed by {killer} at {place}.",
    "You find {name} dead at {place}, killed by {killer}, and nothing can be done.",
    "The bell tolls because {name} is dead, killed by {killer} at {place}.",
)
BETRAYAL = (
    "{name} has betrayed you to the {faction}, selling your plans for a purse of silver.",
    "Too late you learn that {name} betrayed you to the {faction} days ago.",
)
HANDOFF = (
    "The {item} now rests with {holder}, who won it at dice last night.",
    "By evening the {item} has passed into the keeping of {holder}.",
    "{holder} bought the {item} from a peddler and now wears it proudly.",
)
SECRET = (
    "{name} leans close and whispers that the {topic} is {word}.",
    "At last {name} tells you the secret: the {topic} is {word}.",
)
RENAME = (
    "{old} now goes by the name {new}, and answers to no other.",
    "From this day {old} calls themself {new}, and the town soon follows.",
)
MOVE = (
    "{name} has settled in {place} for good, with a room above a chandler's shop.",
    "News comes that {name} now lives in {place} and has no plans to leave.",
)
EVENT_ACTIONS: dict[str, tuple[str, ...]] = {
    "death": ("I follow the crowd toward the shouting.", "I ask what the bells are for."),
    "betrayal": ("I wait at the meeting place as agreed.", "I count the guards at the gate."),
    "handoff": ("I watch the dice game in the corner.", "I wander through the market."),
    "secret": ("I ask {name} what is troubling them.", "I buy {name} a drink and wait."),
    "rename": ("I greet {name} by the fire.", "I ask {name} how the world is treating them."),
    "move": ("I ask after old friends.", "I listen to the gossip at the well."),
}

# Probe actions: they name the entity as a player would, never the answer.
PROBE_ACTIONS: dict[str, tuple[str, ...]] = {
    "death": (
        "I ask {name} to heal my wound.",
        "I go to find {name} and ask for help.",
        "I send a message to {name} asking to meet.",
        "I ask {name} to travel with me to the coast.",
    ),
    "betrayal": (
        "I ask {name} to guard my back tonight.",
        "I tell {name} where I plan to hide.",
        "I trust {name} with the plan for tomorrow.",
        "I ask {name} to carry a letter to my allies.",
    ),
    "handoff": (
        "I go looking for the {name}.",
        "I ask around about the {name}.",
        "I need the {name}, so I set out to find it.",
        "I want to buy the {name} from whoever has it.",
    ),
    "secret": (
        "I ask {name} for the {topic}.",
        "I ask {name} to remind me of the {topic}.",
        "I go to {name} to learn the {topic}.",
    ),
    "rename": (
        "I look for {name} among the crowd.",
        "I ask {name} for counsel.",
        "I go and speak with {name}.",
    ),
    "move": (
        "I go to visit {name}.",
        "I set out to find {name} at home.",
        "I want to speak with {name} in person, so I go where they live.",
    ),
}
SLOT_WORDS: dict[str, tuple[str, ...]] = {
    "faction": FACTIONS,
    "foe": FOES,
    "food": FOODS,
    "drink": DRINKS,
    "weather": WEATHER,
    "goods": GOODS,
    "topic": TOPICS,
}


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list):
        for part in value:
            yield from _strings(part)
    elif isinstance(value, dict):
        for key, part in value.items():
            yield key
            yield from _strings(part)


# Every fixed string, lower case, so an invented word can be checked not to hide inside one.
CORPUS = "|".join(
    text.lower()
    for name, value in list(globals().items())
    if name.isupper()
    for text in _strings(value)
)
