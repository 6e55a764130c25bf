//! The singular of an English plural, for row struct names (`statuses` → `status`).
//!
//! Three tables, each a list of `(plural, singular)` endings: words kept as they are, irregular
//! endings, and regular endings. A word is looked up in that order; within a table the longest
//! matching ending wins, so `olives` is not read as `-lives` and `abuses` not as `-buses`.
//! A name is only ever made singular here, never plural, so the rules need not round-trip.

/// Words that are the same in the singular, or singular already though they end in `s`.
/// Matched as the whole word.
const KEPT_WORDS: &[&str] = &[
    "alias",
    "analytics",
    "atlas",
    "aws",
    "bias",
    "canvas",
    "chaos",
    "christmas",
    "cms",
    "corps",
    "cors",
    "cosmos",
    "diabetes",
    "dns",
    "economics",
    "electronics",
    "ethics",
    "ethos",
    "faas",
    "gas",
    "genetics",
    "gps",
    "headquarters",
    "herpes",
    "iaas",
    "ios",
    "kudos",
    "lens",
    "linguistics",
    "logistics",
    "macos",
    "mathematics",
    "means",
    "measles",
    "os",
    "paas",
    "pancreas",
    "pathos",
    "physics",
    "politics",
    "rabies",
    "rss",
    "saas",
    "sms",
    "sos",
    "thermos",
    "yes",
];

/// Irregular plurals matched as the whole word (as an ending they would catch regular words:
/// `mice` in `pumice`, `ties` in `parties`).
const IRREGULAR_WORDS: &[(&str, &str)] = &[
    ("axes", "axis"),
    ("dies", "die"),
    ("lice", "louse"),
    ("lies", "lie"),
    ("men", "man"),
    ("mice", "mouse"),
    ("oxen", "ox"),
    ("pies", "pie"),
    ("ties", "tie"),
];

/// Irregular plurals matched as the end of a word (`people`, `salespeople`).
const IRREGULAR_ENDINGS: &[(&str, &str)] = &[
    // Stays: these end like plurals but are the same in the singular.
    ("data", "data"),
    ("news", "news"),
    ("series", "series"),
    ("species", "species"),
    // Whole-word changes.
    ("children", "child"),
    ("feet", "foot"),
    ("geese", "goose"),
    ("people", "person"),
    ("teeth", "tooth"),
    ("women", "woman"),
    ("gentlemen", "gentleman"),
    ("chairmen", "chairman"),
    ("policemen", "policeman"),
    ("firemen", "fireman"),
    ("foremen", "foreman"),
    ("freshmen", "freshman"),
    ("smen", "sman"),
    ("dormice", "dormouse"),
    // Latin and Greek.
    ("addenda", "addendum"),
    ("alumni", "alumnus"),
    ("antennae", "antenna"),
    ("automata", "automaton"),
    ("bacteria", "bacterium"),
    ("cacti", "cactus"),
    ("corpora", "corpus"),
    ("criteria", "criterion"),
    ("curricula", "curriculum"),
    ("errata", "erratum"),
    ("foci", "focus"),
    ("formulae", "formula"),
    ("fungi", "fungus"),
    ("genera", "genus"),
    ("larvae", "larva"),
    ("memoranda", "memorandum"),
    ("nuclei", "nucleus"),
    ("phenomena", "phenomenon"),
    ("radii", "radius"),
    ("schemata", "schema"),
    ("stimuli", "stimulus"),
    ("strata", "stratum"),
    ("syllabi", "syllabus"),
    ("vertebrae", "vertebra"),
    // -ices → -ex, -ix.
    ("apices", "apex"),
    ("appendices", "appendix"),
    ("cortices", "cortex"),
    ("indices", "index"),
    ("matrices", "matrix"),
    ("vertices", "vertex"),
    ("vortices", "vortex"),
    // -ses → -sis.
    ("crises", "crisis"),
    ("diagnoses", "diagnosis"),
    ("emphases", "emphasis"),
    ("geneses", "genesis"),
    ("metamorphoses", "metamorphosis"),
    ("nemeses", "nemesis"),
    ("neuroses", "neurosis"),
    ("oases", "oasis"),
    ("prognoses", "prognosis"),
    ("psychoses", "psychosis"),
    ("synopses", "synopsis"),
    ("theses", "thesis"),
    ("yses", "ysis"),
    // -uses → -us (the regular rule makes -uses → -use: houses, courses, causes).
    ("abacuses", "abacus"),
    ("apparatuses", "apparatus"),
    ("bonuses", "bonus"),
    ("buses", "bus"),
    ("abuses", "abuse"),
    ("cactuses", "cactus"),
    ("campuses", "campus"),
    ("caucuses", "caucus"),
    ("censuses", "census"),
    ("choruses", "chorus"),
    ("circuses", "circus"),
    ("citruses", "citrus"),
    ("consensuses", "consensus"),
    ("corpuses", "corpus"),
    ("fetuses", "fetus"),
    ("focuses", "focus"),
    ("geniuses", "genius"),
    ("hiatuses", "hiatus"),
    ("lotuses", "lotus"),
    ("minuses", "minus"),
    ("nexuses", "nexus"),
    ("octopuses", "octopus"),
    ("onuses", "onus"),
    ("opuses", "opus"),
    ("platypuses", "platypus"),
    ("pluses", "plus"),
    ("prospectuses", "prospectus"),
    ("radiuses", "radius"),
    ("sinuses", "sinus"),
    ("statuses", "status"),
    ("styluses", "stylus"),
    ("surpluses", "surplus"),
    ("syllabuses", "syllabus"),
    ("thesauruses", "thesaurus"),
    ("uteruses", "uterus"),
    ("viruses", "virus"),
    ("walruses", "walrus"),
    // -us plurals of words ending in u (the regular rule keeps -us: status, bus).
    ("emus", "emu"),
    ("gnus", "gnu"),
    ("gurus", "guru"),
    ("haikus", "haiku"),
    ("menus", "menu"),
    ("tofus", "tofu"),
    ("tutus", "tutu"),
    // -ases → -as.
    ("aliases", "alias"),
    ("atlases", "atlas"),
    ("biases", "bias"),
    ("canvases", "canvas"),
    ("gases", "gas"),
    ("lenses", "lens"),
    // -oes → -o (the regular rule drops the s: shoes, toes, canoes).
    ("buffaloes", "buffalo"),
    ("cargoes", "cargo"),
    ("dominoes", "domino"),
    ("echoes", "echo"),
    ("embargoes", "embargo"),
    ("heroes", "hero"),
    ("mangoes", "mango"),
    ("mosquitoes", "mosquito"),
    ("potatoes", "potato"),
    ("tomatoes", "tomato"),
    ("tornadoes", "tornado"),
    ("torpedoes", "torpedo"),
    ("vetoes", "veto"),
    ("volcanoes", "volcano"),
    // -ches → -che (the regular rule makes -ches → -ch: batches, matches).
    ("avalanches", "avalanche"),
    ("caches", "cache"),
    ("cliches", "cliche"),
    ("creches", "creche"),
    ("headaches", "headache"),
    ("niches", "niche"),
    ("psyches", "psyche"),
    ("quiches", "quiche"),
    ("staches", "stache"),
    // -ves → -f, -fe (the regular rule drops the s: archives, moves, curves).
    ("calves", "calf"),
    ("dwarves", "dwarf"),
    ("elves", "elf"),
    ("halves", "half"),
    ("hooves", "hoof"),
    ("knives", "knife"),
    ("leaves", "leaf"),
    ("lives", "life"),
    ("loaves", "loaf"),
    ("olives", "olive"),
    ("scarves", "scarf"),
    ("sheaves", "sheaf"),
    ("shelves", "shelf"),
    ("selves", "self"),
    ("thieves", "thief"),
    ("wives", "wife"),
    ("wolves", "wolf"),
    // -ies → -ie (the regular rule makes -ies → -y: categories, entries).
    ("aunties", "auntie"),
    ("calories", "calorie"),
    ("cookies", "cookie"),
    ("freebies", "freebie"),
    ("genies", "genie"),
    ("goalies", "goalie"),
    ("hoodies", "hoodie"),
    ("indies", "indie"),
    ("lingeries", "lingerie"),
    ("magpies", "magpie"),
    ("movies", "movie"),
    ("neckties", "necktie"),
    ("newbies", "newbie"),
    ("pixies", "pixie"),
    ("prairies", "prairie"),
    ("rookies", "rookie"),
    ("selfies", "selfie"),
    ("smoothies", "smoothie"),
    ("sorties", "sortie"),
    ("techies", "techie"),
    ("veggies", "veggie"),
    ("zombies", "zombie"),
    // -is plurals of words ending in i (the regular rule keeps -is: axis, iris).
    ("alibis", "alibi"),
    ("bikinis", "bikini"),
    ("chilis", "chili"),
    ("delis", "deli"),
    ("emojis", "emoji"),
    ("khakis", "khaki"),
    ("kiwis", "kiwi"),
    ("martinis", "martini"),
    ("minis", "mini"),
    ("rabbis", "rabbi"),
    ("safaris", "safari"),
    ("salamis", "salami"),
    ("semis", "semi"),
    ("skis", "ski"),
    ("taxis", "taxi"),
    ("tsunamis", "tsunami"),
    ("wikis", "wiki"),
    ("yetis", "yeti"),
    // -zzes.
    ("quizzes", "quiz"),
    ("whizzes", "whiz"),
];

/// Regular endings. `-ss`, `-us` and `-is` are singular already (`address`, `status`,
/// `analysis`); anything else ending in `s` drops it.
const REGULAR_ENDINGS: &[(&str, &str)] = &[
    ("ches", "ch"),
    ("ies", "y"),
    ("is", "is"),
    ("s", ""),
    ("shes", "sh"),
    ("ss", "ss"),
    ("sses", "ss"),
    ("tzes", "tz"),
    ("us", "us"),
    ("xes", "x"),
    ("zzes", "zz"),
];

/// The singular of one lowercase English word (`statuses` → `status`, `people` → `person`,
/// `data` → `data`); a word that is not a plural is returned as it is.
pub fn singular_word(word: &str) -> String {
    if KEPT_WORDS.contains(&word) {
        return word.to_owned();
    }
    if let Some((_, singular)) = IRREGULAR_WORDS.iter().find(|(plural, _)| *plural == word) {
        return (*singular).to_owned();
    }
    for table in [IRREGULAR_ENDINGS, REGULAR_ENDINGS] {
        let longest = table
            .iter()
            .filter(|(plural, _)| word.len() > plural.len() || word == *plural)
            .filter(|(plural, _)| word.ends_with(plural))
            .max_by_key(|(plural, _)| plural.len());
        if let Some((plural, singular)) = longest {
            return format!("{}{singular}", &word[..word.len() - plural.len()]);
        }
    }
    word.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_lowercase_and_have_no_duplicate_endings() {
        for table in [IRREGULAR_WORDS, IRREGULAR_ENDINGS, REGULAR_ENDINGS] {
            let mut plurals: Vec<&str> = table.iter().map(|(plural, _)| *plural).collect();
            assert!(plurals
                .iter()
                .all(|p| p.chars().all(|c| c.is_ascii_lowercase())));
            plurals.sort_unstable();
            let count = plurals.len();
            plurals.dedup();
            assert_eq!(plurals.len(), count, "a plural ending is listed twice");
        }
        assert!(KEPT_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_singular_word_is_its_own_singular() {
        for table in [IRREGULAR_WORDS, IRREGULAR_ENDINGS] {
            for (plural, singular) in table {
                assert_eq!(singular_word(singular), *singular, "singular of {plural}");
            }
        }
    }
}
