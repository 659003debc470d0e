/**
 * Feedback text: a classifier (bug / feature / noise: hand-written rules, then a small linear model
 * for what the rules found nothing in) and the tokens the clusterer compares (lower-cased words,
 * stop words out, crude stemming, word pairs).
 */
import { type ModelClass, modelProbabilities, type TextModel } from "./model.ts";
import { FEEDBACK_MODEL } from "./model-weights.gen.ts";

export type FeedbackClass = "bug" | "feature" | "noise";

/**
 * How sure the model must be to take a review the rules dropped as noise for a bug or a request.
 * Chosen on the labelled reviews with the model trained on another app's (`pnpm bench quality`):
 * at 0.8 both classes gain recall and lose no precision.
 */
export const MODEL_RESCUE = 0.8;

const FEATURE = [
  /\b(please|pls|plz)\s+(add|make|bring|include|allow|let|give|implement|fix\s+it\s+so)\b/,
  /\b(would|it'?d)\s+(be|love|like)\s+(nice|great|good|awesome|helpful|useful|better|cool)?\b/,
  /\bwould (really )?(love|like) (to|it|if|a|an|the|more|some)\b/,
  /\b(i|we) wish\b|\bwish (it|there|they|you|i)\b/,
  /\b(should|could|need to|needs to|must) (add|have|include|allow|support|be able|let|show|give|offer|bring back)\b/,
  /\b(add|adding|bring back|option to|ability to|able to choose|feature request|suggestion|suggest|integration with|support for|compatib)/,
  /\b(why (can'?t|cant|isn'?t|is there no|no)|there is no|there'?s no|doesn'?t have|does not have|lacks?|missing)\b/,
  /\bif (only|you could|they could|there was|there were)\b/,
  /\b(need|needs|want|could do with|could use|would be) (more|a|an|some|better|the)\b/,
  /\b(make|create|give us|bring) (a|an|the)? ?(widget|option|setting|feature|version)\b/,
  /\b(stop|don'?t) (asking|requiring|forcing|making)\b|\bwhy (do|does|is|are|did)\b|\bshouldn'?t\b/,
  /\b(hope|hoping) (you|they|to see|for)\b/,
  // Praise with a condition: "would give five stars if…", "will rate 5 stars when…".
  /\bstars? (if|when|once)\b/,
  /\b(only thing i'?d (change|like|want|add)|i'?d change|(would|i'?d) (also|just|really) (like|love))\b/,
  /\b(could|should) (be|use) (a )?(little |bit |lot |much |way )?(more|better|easier|simpler|faster|clearer)\b/,
  /\bif (the|it|they|you|there) (were|was|had|could|would)\b/,
  /\b(it|you|they|this app|the app) should (also |really )?\w/,
  /\bi hope\b/,
  // A feature taken away is a request to bring it back: "they removed weight management", "where
  // did the leader board go?", "put it back".
  /\b(removed|took away|taken away|took (down|out)|taken out|got rid of|disappeared|(is|are) gone)\b/,
  /\bwhere (did|has|have|is|are) (the |my |this |that |all )?[\w ]{0,30}\b(go|gone|now)\b/,
  /\b(put (it|them) back|reinstate)\b/,
  /\b(will|would) be (nice|great|good|helpful|useful|awesome)\b|\bwish(ed)? that\b/,
  /\bi'?d like (there to be|to see|a way|an option|to be able)\b|\bwhy not\b|\blacking\b/,
  /\bno (way|option|options|ability|setting|settings) to\b/,
  // "Any plans for a dark mode?", "dark mode please!": a thing asked for in two words and a please.
  /\b(any|are there|is there a|do you have) plans? (for|to)\b/,
  /^[\w -]{3,30} (please|pls|plz)\b/,
];

const BUG = [
  /\b(crash\w*|freez\w*|frozen|hang(s|ing)?|lag(s|gy|ging)?|glitch\w*|bug(s|gy)?|broken|error\w*|fail\w*|stuck|froze)\b/,
  /\b(does ?n[o']?t|do ?n[o']?t|won'?t|will not|can ?not|can'?t|cant|unable to|isn'?t|is not|not) (work|sync|connect|pair|load|open|show|record|track|count|update|sav|log ?in|start|respond|display|register|turn|find)\w*/,
  /\b(stopped|stops|quit|quits|keeps?|kept) (working|syncing|crashing|connecting|disconnecting|asking|logging|restarting|closing|dropping|loading|showing)\b/,
  /\b(not|no longer|never) (working|syncing|accurate|correct|right|recording|tracking|counting|showing|connecting|loading)\b/,
  /\b(trouble|having trouble|black screen|blank screen|never (get|got|works?|syncs?)|fix)\b/,
  /\b(can'?t|cant|cannot|couldn'?t|wouldn'?t|din'?t|didn'?t|hasn'?t been able|no longer|unable) (\w+ )?(sync|synch|connect|pair|link|login|log in|download|get|see|set|keep|load)\w*/,
  /\b(disconnect\w*|lost (all|my)|deleted (all|my)|wrong|inaccurate|incorrect|drains?|draining|problem\w*|issue\w*|since (the|last) update|after (the|last|latest) update)\b/,
  // What a device or an app stopped or refuses to do, in the words people use for steps and logins.
  /\b(won'?t|wont|will not|doesn'?t|doesnt|does not|didn'?t|would not|wouldn'?t) (even |directly |always |actually )?(let me|allow|measure|read|import|give|sign|do anything|uninstall|delete|remove)\b/,
  /\b(not|isn'?t|never) (very |always |that |really )?(accurate|correct|reliable|performing|able to)\b/,
  /\b(stopped|stops|has ?n'?t|has not|hasn'?t been) (passively )?(counting|tracking|tracked|recording|logging|measuring|registering)\b/,
  /\b(cannot|can'?t|cant|unable to|not able to) (uninstall|delete|remove|access|open|locate|find|measure|use|sign|verify|turn (it )?off)\b/,
  /\b(white|spinning|loading) (screen|circle|wheel)\b|\bnothing (loads|happens|works)\b/,
];

/**
 * The same for French reviews (JavaScript's \b does not see accented letters as word letters, so
 * these patterns lean on spaces and plain prefixes).
 */
const FEATURE_FR = [
  /\b(ce serait|ça serait|ca serait|serait) (bien|top|super|génial|genial|pratique|utile|sympa|parfait|idéal|ideal|cool)/,
  /\b(j'aimerais|j'aimerai|on aimerait|nous aimerions|j'aurais aimé|j'aurais apprécié|j'apprécierais|je souhaiterais|je voudrais|on voudrait)\b/,
  /\b(il manque|manque (de |d'|le |la |les |un |une |juste|encore|toujours|quand même)|il ne manque|ne manque que)/,
  /\b(pourriez-vous|pouvez-vous|pourrait-on|serait-il possible|est-il possible|il faudrait|il serait (bien|bon|utile|judicieux|intéressant|souhaitable))/,
  /\b(ajouter|ajout (de |d'|du |des )|rajouter|intégrer|integrer|possibilité de|pouvoir (choisir|mettre|ajouter|modifier|exporter|transférer|personnaliser|accéder))/,
  /\b(dommage qu|dommage de ne|pourquoi (ne |n'|pas |on ne|il n'y a)|il n'y a pas (de |d')|n'y a pas (de |d')|pas (encore )?de possibilité|suggestion|souhait|améliorable|à améliorer|a ameliorer|mériterait|manquant)/,
  // Reservations in a good review: "seul bémol", "je regrette", "à quand…", "pourrait être plus…".
  /\b(je regrette|regret|regrettable|bémol|seul défaut|petit défaut|perfectible|à quand|a quand|j'espère|vivement|dommage)/,
  /\b(pourrai(t|ent)|devrai(t|ent)|doit pouvoir|on doit pouvoir) (être )?(un peu |beaucoup |encore )?(plus|mieux|moins)/,
  /\b(pas d'option|pas de lien avec|ne propose (pas|aucun)|on ne (peut|puisse) pas)/,
];

const BUG_FR = [
  /\b(plante|plantage|plant[ée]|bug|bugs|bugue|beug|bogue|crash|fig[ée]|freeze|bloqu[ée]|gel[ée]|erreur|panne|inutilisable|problème|probleme|pb|souci)/,
  /\b(ne |n')(fonctionne|marche|synchronise|se synchronise|connecte|se connecte|s'ouvre|ouvre|charge|enregistre|affiche|compte|reçoi|recoi|détecte|reconnai|transf[eè]re|répond|mesure)\w* (plus|pas|jamais|toujours pas|rien)/,
  /\b(n'arrive (plus|pas)|impossible (de |d')|plus possible|plus moyen|ne peux (plus|pas)|ne peut (plus|pas)|je ne parviens|aucune? (donnée|synchro|connexion|notification))/,
  /\b(déconnect|deconnect|perte de|perd |perdu|disparu|effacé|supprimé tout|faux|fausse|erron|incorrect|vide de|se ferme|ferme toute seule|redémarre)/,
  /\b(depuis (la |les |cette |une |l')?(dernière |derniere |nouvelle |récente )?(mise à jour|mise a jour|maj|màj|update)|après (la |cette )?(dernière |derniere )?(mise à jour|mise a jour|maj))/,
];

export function classifyFeedback(
  text: string,
  rating?: number,
  model: TextModel = FEEDBACK_MODEL,
): FeedbackClass {
  const ruled = classifyByRules(text, rating);
  if (ruled !== "noise") return ruled;
  // Nothing the rules know: the model may still read a problem or a request in it.
  const p = modelProbabilities(model, text);
  const likelier: ModelClass = p.bug >= p.feature ? "bug" : "feature";
  return p[likelier] > MODEL_RESCUE ? likelier : "noise";
}

/** The hand-written rules alone (English and French). */
export function classifyByRules(text: string, rating?: number): FeedbackClass {
  const t = text.toLowerCase().replace(/[’`]/g, "'");
  const count = (rules: RegExp[]) => rules.reduce((n, r) => n + (r.test(t) ? 1 : 0), 0);
  const bug = count(BUG) + count(BUG_FR);
  const feature = count(FEATURE) + count(FEATURE_FR);
  const words = t.split(/\s+/).filter(Boolean).length;
  if (bug === 0 && feature === 0) return "noise";
  if (words < 4 && rating !== undefined && rating >= 4) return "noise";
  if (feature > bug) return "feature";
  if (bug > feature) return "bug";
  // A tie: an explicit ask wins when the author is not unhappy.
  return rating !== undefined && rating <= 2 ? "bug" : "feature";
}

const STOP = new Set(
  (
    "a an the and or but if so of to in on at for from by with about as into than then it its it's this that these those " +
    "i me my we our you your he she they them their is are was were be been being am do does did doing have has had " +
    "will would can could should may might must not no nor very too also just only really more most much many " +
    "app apps application phone watch please pls thanks thank good great love " +
    "like nice get got use using used one all any some when what which who how why there here up out now even still " +
    "would'nt dont don't can't cant i'm im it's its ive i've way make makes made want wish add need needs option " +
    // Generic complaint words, as "marche fonctionne" below: said of every problem, no topic.
    "doesn't doesnt didn't didnt isn't isnt won't wont work works working worked problem problems issue issues " +
    // French: articles, pronouns, auxiliaries, negation and the device/app words, as for English above.
    "le la les un une des de du au aux je tu il elle on nous vous ils elles me te se moi toi lui leur leurs mon ma mes " +
    "ton ta tes son sa ses notre nos votre vos ce cet cette ces ça cela ceci qui que quoi dont où et ou mais donc car ni " +
    "ne pas plus rien jamais toujours très trop bien tout tous toute toutes avec sans pour par sur sous dans en est sont " +
    "était être avoir ai as ont avait fait faire peut peux depuis après avant quand comme si alors encore aussi même " +
    "appli application montre téléphone telephone smartphone merci svp bonjour super top bon bonne " +
    "dernière dernier impossible possible dommage nul nulle manque permet marche fonctionne " +
    "entre chez vers aucun aucune autre autres chaque quelques lors"
  ).split(/\s+/),
);

/**
 * Words that name the same thing in English and French reviews of an app or a device, mapped to
 * one term, so "synchronisation impossible" and "won't sync" share a topic. A hand-written lexicon
 * (no model): a word starting with one of the prefixes becomes the term.
 */
const CONCEPTS: [RegExp, string][] = [
  [/^(sync|synch|synchro)/, "sync"],
  [/^(connect|connex|connec|disconnect|déconn|deconn|reconn)/, "connection"],
  [/^(pair|appair|jumel|bluetooth)/, "pairing"],
  [/^(notif)/, "notifications"],
  [/^(batter|autonomi)/, "battery"],
  [/^(sleep|sommeil|sieste|nap$|naps$)/, "sleep"],
  [/^(heart|cardia|cardio|pouls|pulse|bpm$)/, "heart"],
  [/^(step|pedomet|podom)/, "steps"],
  [/^(gps|locat|localis)/, "gps"],
  [/^(login|logg|sign-?in|account|compte|password|passw|identifi)/, "account"],
  [/^(weight|poids|scale$|balance)/, "weight"],
  [/^(screen|display|écran|ecran|affich)/, "screen"],
  [/^(languag|langue|translat|tradu)/, "language"],
  [/^(workout|exercis|exercic|entraîn|entrain|training)/, "workouts"],
  [/^(swim|nage|natation|piscine|pool)/, "swim"],
  [/^(bike|cycl|vélo|velo)/, "cycling"],
  [/^(music|musique|spotify)/, "music"],
  [/^(calori)/, "calories"],
  [/^(alarm|réveil|reveil)/, "alarm"],
  [/^(permission|autoris)/, "permissions"],
  [/^(unit$|units$|unité|unite|kilom|km$|miles?$)/, "units"],
  [/^(crash|plant|freez|fig[eé])/, "crash"],
];

export const CONCEPT_TERMS = new Set(CONCEPTS.map(([, t]) => t));

/** How a card names a concept when its term alone reads oddly ("heart" → "heart rate"). */
export const CONCEPT_LABELS: Record<string, string> = {
  heart: "heart rate",
  steps: "step counting",
  gps: "GPS and location",
  account: "accounts and login",
  units: "units",
  crash: "crashes",
};

function concept(w: string): string | null {
  for (const [re, term] of CONCEPTS) if (re.test(w)) return term;
  return null;
}

function stem(w: string): string {
  return w
    .replace(/(ing|ed|es|s|ly)$/, "")
    .replace(/(.)\1$/, "$1")
    .slice(0, 12);
}

/** A pattern matching any of the names (product, company) as whole words; null for none. */
export function namesPattern(names: readonly string[]): RegExp | null {
  const parts = names
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean)
    .sort((a, b) => b.length - a.length)
    .map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return parts.length > 0 ? new RegExp(`(?<![\\p{L}\\d])(${parts.join("|")})(?![\\p{L}\\d])`, "gu") : null;
}

/**
 * Terms of a text: stemmed content words (shared terms for known concepts) and adjacent word pairs.
 * `names` (from namesPattern: the product's and company's names) are left out: every review says
 * them, and "Garmin Connect" is not the topic "connection".
 */
export function terms(text: string, names: RegExp | null = null): string[] {
  let lower = text.toLowerCase().replace(/[’`]/g, "'");
  if (names) lower = lower.replace(names, " ");
  const words = lower
    .replace(/\bmises? [àa] jour\b/g, "maj")
    .split(/[^a-z0-9à-ÿ']+/)
    // French elision: "l'application" is "application", "d'entraînement" is "entraînement".
    .map((w) => w.replace(/^(l|d|j|n|qu|c|s|m|t)'/, ""))
    .filter((w) => w.length > 2 && !STOP.has(w))
    .map((w) => concept(w) ?? stem(w))
    .filter((w) => w.length > 2);
  const out = new Set(words);
  for (let i = 0; i + 1 < words.length; i++) out.add(`${words[i]} ${words[i + 1]}`);
  return [...out];
}
