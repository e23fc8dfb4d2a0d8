//! A realistic demo site, generated: authors with affiliations and bios,
//! topics, and papers with sections, footnotes, tables and lists, one in
//! Hebrew and one in Arabic. Deterministic (same count, same site), and
//! every sentence is assembled here, not copied from anywhere.

use quire_core::domain::{
    AuthorInput, AuthorLink, CommentsMode, MediaInput, MediaKind, PaperInput, Status, TopicInput, slugify,
};
use time::{Duration, OffsetDateTime};

/// Everything the demo site holds.
pub struct DemoContent {
    pub authors: Vec<AuthorInput>,
    pub topics: Vec<TopicInput>,
    pub papers: Vec<PaperInput>,
}

/// A small deterministic generator (SplitMix64): the demo must not change
/// between runs, and needs no dependency for it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
}

const AUTHORS: &[(&str, &str, &str)] = &[
    (
        "Amara Okonkwo",
        "Centre for Regional Economics",
        "trade policy and regional integration",
    ),
    (
        "Henrik Lindqvist",
        "Nordic Institute for Public Finance",
        "fiscal rules and public investment",
    ),
    (
        "Priya Raman",
        "Urban Futures Lab",
        "housing markets and municipal finance",
    ),
    (
        "Tomás Ferreira",
        "Atlantic Policy Forum",
        "energy security and grid reform",
    ),
    (
        "Yael Ben-David",
        "Institute for Water Governance",
        "water scarcity and utilities regulation",
    ),
    (
        "Layla Haddad",
        "Mediterranean Research Network",
        "migration, labour mobility and remittances",
    ),
    (
        "Julien Marchand",
        "European Competition Observatory",
        "competition policy and digital markets",
    ),
    (
        "Grace Mwangi",
        "East African Development Institute",
        "agricultural value chains and food security",
    ),
    (
        "Daniel Osei",
        "Centre for Regional Economics",
        "port logistics and infrastructure finance",
    ),
    (
        "Sofia Kowalska",
        "Institute for Democratic Resilience",
        "electoral integrity and public trust",
    ),
    (
        "Kenji Watanabe",
        "Pacific Technology Policy Group",
        "semiconductor supply chains and export controls",
    ),
    (
        "Elena Petrova",
        "Climate Transition Initiative",
        "carbon pricing and industrial decarbonisation",
    ),
];

const TOPICS: &[(&str, &str)] = &[
    (
        "Trade",
        "Tariffs, trade agreements, customs and the corridors goods move through.",
    ),
    (
        "Infrastructure",
        "Ports, roads, grids and networks, and how they are planned and paid for.",
    ),
    ("Energy", "Power markets, grids, storage and the security of supply."),
    ("Climate", "Emissions, adaptation and the economics of the transition."),
    (
        "Public Finance",
        "Budgets, debt, taxation and the rules that bind them.",
    ),
    ("Housing", "Supply, affordability and the finance of homes and cities."),
    ("Water", "Scarcity, utilities and the governance of shared basins."),
    ("Migration", "Movement of people, labour markets and integration."),
    (
        "Technology",
        "Digital markets, supply chains and the regulation of new technology.",
    ),
    ("Democracy", "Elections, institutions and public trust."),
    ("Food Security", "Farming, value chains and the price of food."),
    (
        "Competition",
        "Market power, mergers and the enforcement of competition law.",
    ),
];

const OPENERS: &[&str] = &[
    "Rethinking",
    "Financing",
    "Governing",
    "Reforming",
    "Securing",
    "Measuring",
    "Scaling",
    "Rebuilding",
    "Pricing",
    "Coordinating",
    "Modernising",
    "Protecting",
];

const SUBJECTS: &[&str] = &[
    "Regional Trade Corridors",
    "Municipal Water Systems",
    "Grid-Scale Storage",
    "Small Ports",
    "Public Investment",
    "Affordable Housing",
    "Cross-Border Labour Markets",
    "Digital Platforms",
    "Food Supply Chains",
    "Carbon Markets",
    "Local Elections",
    "Semiconductor Supply",
    "Urban Transit",
    "Sovereign Debt",
    "River Basin Agreements",
    "Fertiliser Markets",
    "Interconnectors",
    "Customs Procedures",
];

const SUBTITLES: &[&str] = &[
    "Evidence from a decade of reform",
    "What the data say, and what they do not",
    "Options for the next parliament",
    "Lessons for mid-sized economies",
    "A framework for decision-makers",
    "Costs, benefits and trade-offs",
    "Why the current approach falls short",
    "Priorities for the coming budget cycle",
];

const ACTORS: &[&str] = &[
    "Governments",
    "Regulators",
    "Municipal authorities",
    "Development banks",
    "Private operators",
    "Regional bodies",
    "Treasury officials",
    "Parliamentary committees",
    "Utility companies",
    "Donor agencies",
];

const VERBS: &[&str] = &[
    "have underestimated",
    "can no longer ignore",
    "should reconsider",
    "have struggled to finance",
    "increasingly depend on",
    "rarely measure",
    "could share the cost of",
    "must coordinate",
];

const OBJECTS: &[&str] = &[
    "the maintenance backlog",
    "the risk of stranded assets",
    "the distributional effects of reform",
    "the capacity of local institutions",
    "the price signals that guide investment",
    "the resilience of supply",
    "the cost of delay",
    "the quality of public data",
    "cross-border spillovers",
    "long-term contracts",
];

const CLAUSES: &[&str] = &[
    "even where budgets are tight",
    "particularly in smaller economies",
    "despite a decade of commitments",
    "as demand continues to rise",
    "when shocks arrive together",
    "before the next review cycle",
    "in ways that voters can see",
    "without new legislation",
];

const FINDINGS: &[&str] = &[
    "The evidence points to modest gains when reforms are sequenced carefully.",
    "Where institutions are weak, the same policy produces very different outcomes.",
    "Most of the cost falls in the first three years, while benefits accrue over two decades.",
    "Comparable cases suggest that transparency matters more than the choice of instrument.",
    "Data gaps make it hard to attribute outcomes to any single intervention.",
    "Smaller jurisdictions often move faster because fewer veto players are involved.",
    "The largest risks are political rather than technical.",
    "Pilot programmes rarely scale without a dedicated financing line.",
];

const SOURCES: &[&str] = &[
    "Annual Statistical Review",
    "Working Paper Series",
    "Country Assessment",
    "Regional Outlook",
    "Household Survey",
    "Audit Report",
    "Infrastructure Database",
    "Consultation Response",
];

const SECTIONS: &[&str] = &[
    "Background",
    "The problem in numbers",
    "What has been tried",
    "Analysis",
    "Policy options",
    "Risks and trade-offs",
    "Recommendations",
];

const HEBREW_WORDS: &[&str] = &[
    "מדיניות",
    "ציבורית",
    "נמלים",
    "תשתיות",
    "השקעה",
    "ממשלה",
    "רשויות",
    "מקומיות",
    "מים",
    "אנרגיה",
    "כלכלה",
    "אזורית",
    "מחקר",
    "נתונים",
    "רפורמה",
    "תקציב",
    "שוק",
    "עבודה",
    "סחר",
    "חקלאות",
    "ביטחון",
    "תחבורה",
    "עירונית",
    "אמון",
    "מוסדות",
    "עלות",
    "תועלת",
    "סיכון",
    "שקיפות",
    "פיתוח",
];

const ARABIC_WORDS: &[&str] = &[
    "السياسة",
    "العامة",
    "الموانئ",
    "البنية",
    "التحتية",
    "الاستثمار",
    "الحكومة",
    "البلديات",
    "المياه",
    "الطاقة",
    "الاقتصاد",
    "الإقليمي",
    "البحث",
    "البيانات",
    "الإصلاح",
    "الميزانية",
    "السوق",
    "العمل",
    "التجارة",
    "الزراعة",
    "الأمن",
    "الغذائي",
    "النقل",
    "الثقة",
    "المؤسسات",
    "التكلفة",
    "المنفعة",
    "المخاطر",
    "الشفافية",
    "التنمية",
];

fn sentence(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!(
            "{} {} {} {}.",
            rng.pick(ACTORS),
            rng.pick(VERBS),
            rng.pick(OBJECTS),
            rng.pick(CLAUSES)
        ),
        1 => (*rng.pick(FINDINGS)).to_owned(),
        _ => format!(
            "{} {} {}, while {} {} {}.",
            rng.pick(ACTORS),
            rng.pick(VERBS),
            rng.pick(OBJECTS),
            rng.pick(ACTORS).to_lowercase(),
            rng.pick(VERBS),
            rng.pick(OBJECTS)
        ),
    }
}

fn paragraph(rng: &mut Rng, sentences: usize) -> String {
    (0..sentences).map(|_| sentence(rng)).collect::<Vec<_>>().join(" ")
}

fn rtl_sentence(rng: &mut Rng, words: &[&str]) -> String {
    let n = rng.range(6, 12);
    let mut s = (0..n).map(|_| *rng.pick(words)).collect::<Vec<_>>().join(" ");
    s.push('.');
    s
}

fn footnote(rng: &mut Rng, year: i32) -> String {
    let (author, org, _) = *rng.pick(AUTHORS);
    let surname = author.rsplit(' ').next().unwrap_or(author);
    format!(
        "{surname}, *{} {}* ({org}, {}), p. {}.",
        rng.pick(SUBJECTS),
        rng.pick(SOURCES),
        year - rng.range(1, 8) as i32,
        rng.range(3, 240)
    )
}

/// The indicator table, and its "Projects completed" row by year for the
/// chart that may follow it.
fn table(rng: &mut Rng, year: i32) -> (String, Vec<(i32, f64)>) {
    let mut t = String::from("| Indicator | ");
    let years: Vec<i32> = (0..4).map(|i| year - 3 + i).collect();
    let mut projects = Vec::new();
    t.push_str(&years.iter().map(|y| y.to_string()).collect::<Vec<_>>().join(" | "));
    t.push_str(" |\n|:--|");
    t.push_str(&"--:|".repeat(years.len()));
    t.push('\n');
    for label in [
        "Public investment (% of GDP)",
        "Private share of financing (%)",
        "Projects completed",
        "Average delay (months)",
    ] {
        t.push_str(&format!("| {label} |"));
        for y in &years {
            let (whole, tenth) = (rng.range(1, 60), rng.below(10));
            t.push_str(&format!(" {whole}.{tenth} |"));
            if label == "Projects completed" {
                projects.push((*y, whole as f64 + tenth as f64 / 10.0));
            }
        }
        t.push('\n');
    }
    (t, projects)
}

/// A bar chart of `values` by year as SVG: the demo's figure, drawn here.
fn bar_chart(title: &str, values: &[(i32, f64)]) -> String {
    let (w, h, left, bottom, top) = (480.0, 240.0, 40.0, 200.0, 48.0);
    let max = values.iter().map(|v| v.1).fold(1.0_f64, f64::max);
    let step = (w - left - 20.0) / values.len().max(1) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"Libertinus Serif, Georgia, serif\" font-size=\"13\">\n\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n\
         <text x=\"{left}\" y=\"18\" fill=\"#333333\">{title}</text>\n"
    );
    for (i, (year, value)) in values.iter().enumerate() {
        let bar = (bottom - top) * value / max;
        let x = left + step * i as f64 + step * 0.2;
        let y = bottom - bar;
        let (bw, cx) = (step * 0.6, x + step * 0.3);
        svg.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{bar:.1}\" fill=\"#1f4e79\"/>\n\
             <text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333333\">{value:.1}</text>\n\
             <text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333333\">{year}</text>\n",
            y - 5.0,
            bottom + 18.0
        ));
    }
    svg.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{:.1}\" y2=\"{bottom}\" stroke=\"#333333\" stroke-width=\"1.5\"/>\n</svg>\n",
        w - 20.0
    ));
    svg
}

/// An English paper's body and, when `with_chart`, the chart its second
/// section shows (stored with the paper as `figure-1.svg`).
fn english_body(rng: &mut Rng, year: i32, with_chart: bool) -> (String, Option<MediaInput>) {
    let mut chart = None;
    let mut body = String::new();
    let mut notes = Vec::new();
    body.push_str(&paragraph(rng, 4));
    body.push_str("\n\n");
    let sections = rng.range(3, 6);
    for (i, title) in SECTIONS.iter().take(sections).enumerate() {
        body.push_str(&format!("## {title}\n\n"));
        for _ in 0..rng.range(2, 4) {
            let n = rng.range(3, 6);
            let mut p = paragraph(rng, n);
            if rng.below(2) == 0 {
                notes.push(footnote(rng, year));
                p.push_str(&format!("[^{}]", notes.len()));
            }
            body.push_str(&p);
            body.push_str("\n\n");
        }
        if i == 1 {
            body.push_str(&format!(
                "Table 1 sets out the main indicators.[^{}]\n\n",
                notes.len() + 1
            ));
            notes.push(footnote(rng, year));
            let (table, projects) = table(rng, year);
            body.push_str(&table);
            body.push('\n');
            if with_chart {
                let (first, last) = (year - 3, year);
                body.push_str(&format!(
                    "![Bar chart of projects completed each year from {first} to {last}](figure-1.svg \
                     \"Figure 1: Projects completed, {first}–{last}\")\n\n"
                ));
                let svg = bar_chart("Projects completed", &projects);
                chart = Some(MediaInput {
                    name: "figure-1.svg".into(),
                    kind: MediaKind::Svg,
                    width: Some(480),
                    height: Some(240),
                    data: svg.into_bytes(),
                });
            }
        }
        if i == 2 {
            body.push_str("### Three approaches\n\n");
            for _ in 0..3 {
                body.push_str(&format!("- **{}**: {}\n", rng.pick(OPENERS), sentence(rng)));
            }
            body.push('\n');
            body.push_str(&format!("> {}\n\n", rng.pick(FINDINGS)));
        }
    }
    body.push_str("## Conclusion\n\n");
    body.push_str(&paragraph(rng, 4));
    body.push_str("\n\n");
    for (i, n) in notes.iter().enumerate() {
        body.push_str(&format!("[^{}]: {n}\n", i + 1));
    }
    (body, chart)
}

fn rtl_body(rng: &mut Rng, words: &[&str], headings: &[&str]) -> String {
    let mut body = String::new();
    for (i, h) in headings.iter().enumerate() {
        body.push_str(&format!("## {h}\n\n"));
        for _ in 0..3 {
            let p: Vec<String> = (0..4).map(|_| rtl_sentence(rng, words)).collect();
            body.push_str(&p.join(" "));
            if i == 0 {
                body.push_str("[^1]");
            }
            body.push_str("\n\n");
        }
        if i == 1 {
            body.push_str(&format!("| {} | 2024 | 2025 |\n|:--|--:|--:|\n", words[0]));
            for w in &words[1..4] {
                body.push_str(&format!("| {w} | {} | {} |\n", rng.range(10, 90), rng.range(10, 90)));
            }
            body.push('\n');
        }
    }
    body.push_str(&format!(
        "[^1]: {} (OECD, 2024), p. {}.\n",
        rtl_sentence(rng, words),
        rng.range(3, 90)
    ));
    body
}

/// Builds the demo: `papers` papers over the last years before `now`, with
/// a draft, a scheduled and an archived one among them once there are ten.
pub fn generate(papers: usize, now: OffsetDateTime, kinds: &[String]) -> DemoContent {
    let (authors, topics, papers) = generate_lazily(papers, now, kinds);
    DemoContent {
        authors,
        topics,
        papers: papers.collect(),
    }
}

/// The same demo, its papers made one at a time as they are taken, so a
/// large demo never sits in memory whole.
pub fn generate_lazily(
    papers: usize,
    now: OffsetDateTime,
    kinds: &[String],
) -> (Vec<AuthorInput>, Vec<TopicInput>, DemoPapers) {
    let authors: Vec<AuthorInput> = AUTHORS
        .iter()
        .map(|(name, org, field)| AuthorInput {
            slug: slugify(name),
            name: (*name).to_owned(),
            affiliation: Some((*org).to_owned()),
            orcid: None,
            bio: format!(
                "{name} is a senior fellow at the {org}, working on {field}. Before that, {} advised \
                 public bodies on *{}* and taught at several universities.",
                name.split(' ').next().unwrap_or(name),
                field.split(" and ").next().unwrap_or(field)
            ),
            links: vec![AuthorLink {
                label: "Profile".into(),
                url: format!("https://example.org/people/{}", slugify(name)),
            }],
        })
        .collect();
    let topics: Vec<TopicInput> = TOPICS
        .iter()
        .map(|(name, description)| TopicInput {
            slug: slugify(name),
            name: (*name).to_owned(),
            description: (*description).to_owned(),
        })
        .collect();

    let generator = DemoPapers {
        rng: Rng(0x5157_4952_4501),
        next: 0,
        total: papers,
        now,
        kinds: kinds.to_vec(),
        authors: authors.iter().map(|a| a.slug.clone()).collect(),
        topics: topics.iter().map(|t| t.slug.clone()).collect(),
        hebrew_at: papers.min(4).saturating_sub(1),
        arabic_at: papers.min(8).saturating_sub(1),
        used: std::collections::HashSet::new(),
        first_slug: None,
    };
    (authors, topics, generator)
}

/// Papers are spread back over this many days.
const SPAN_DAYS: usize = 5 * 365;

/// The demo's papers, newest first, made on demand.
pub struct DemoPapers {
    rng: Rng,
    next: usize,
    total: usize,
    now: OffsetDateTime,
    kinds: Vec<String>,
    authors: Vec<String>,
    topics: Vec<String>,
    hebrew_at: usize,
    arabic_at: usize,
    used: std::collections::HashSet<String>,
    /// The first paper's slug: the Hebrew and Arabic papers translate it.
    first_slug: Option<String>,
}

impl Iterator for DemoPapers {
    type Item = PaperInput;

    fn next(&mut self) -> Option<PaperInput> {
        if self.next >= self.total {
            return None;
        }
        let i = self.next;
        self.next += 1;
        // Newest first, spread evenly back over five years, with jitter.
        let days_back = (i * SPAN_DAYS / self.total.max(1)) as i64 + self.rng.below(3) as i64;
        let published_at = self.now - Duration::days(days_back) - Duration::hours(self.rng.range(1, 20) as i64);
        let year = published_at.year();
        let author_count = self.rng.range(1, 3);
        let mut paper_authors: Vec<String> = Vec::new();
        while paper_authors.len() < author_count {
            let a = self.authors[self.rng.below(self.authors.len())].clone();
            if !paper_authors.contains(&a) {
                paper_authors.push(a);
            }
        }
        let topic_count = self.rng.range(1, 3);
        let mut paper_topics: Vec<String> = Vec::new();
        while paper_topics.len() < topic_count {
            let t = self.topics[self.rng.below(self.topics.len())].clone();
            if !paper_topics.contains(&t) {
                paper_topics.push(t);
            }
        }
        let kind = self.kinds[self.rng.below(self.kinds.len())].clone();
        let mut media = Vec::new();
        let (title, subtitle, summary, body, language) = if i == self.hebrew_at && self.total > 1 {
            (
                "מדיניות נמלים ותשתיות אזוריות".to_owned(),
                Some("סקירה של עשור רפורמות".to_owned()),
                format!(
                    "{} {}",
                    rtl_sentence(&mut self.rng, HEBREW_WORDS),
                    rtl_sentence(&mut self.rng, HEBREW_WORDS)
                ),
                rtl_body(&mut self.rng, HEBREW_WORDS, &["רקע", "ניתוח", "המלצות"]),
                "he".to_owned(),
            )
        } else if i == self.arabic_at && self.total > 1 {
            (
                "سياسات المياه والبنية التحتية الإقليمية".to_owned(),
                Some("دروس من عقد من الإصلاحات".to_owned()),
                format!(
                    "{} {}",
                    rtl_sentence(&mut self.rng, ARABIC_WORDS),
                    rtl_sentence(&mut self.rng, ARABIC_WORDS)
                ),
                rtl_body(&mut self.rng, ARABIC_WORDS, &["خلفية", "تحليل", "توصيات"]),
                "ar".to_owned(),
            )
        } else {
            let title = format!("{} {}", self.rng.pick(OPENERS), self.rng.pick(SUBJECTS));
            let subtitle = (self.rng.below(3) > 0).then(|| (*self.rng.pick(SUBTITLES)).to_owned());
            let summary = paragraph(&mut self.rng, 2);
            // A chart in every third of the first papers: enough to show
            // figures, without weighing down large generated sites.
            let (body, chart) = english_body(&mut self.rng, year, i < 60 && i.is_multiple_of(3));
            media.extend(chart);
            (title, subtitle, summary, body, "en".to_owned())
        };
        let mut slug = slugify(&title);
        if !self.used.insert(slug.clone()) {
            slug = format!("{slug}-{}", i + 1);
            self.used.insert(slug.clone());
        }
        let translation_of = if language == "en" {
            None
        } else {
            self.first_slug.clone()
        };
        if i == 0 {
            self.first_slug = Some(slug.clone());
        }
        let (status, published_at) = match i {
            1 if self.total >= 10 => (Status::Scheduled, Some(self.now + Duration::days(2))),
            5 if self.total >= 10 => (Status::Draft, None),
            9 if self.total >= 10 => (Status::Archived, Some(published_at)),
            _ => (Status::Published, Some(published_at)),
        };
        Some(PaperInput {
            slug,
            title,
            subtitle,
            kind,
            summary,
            body,
            authors: paper_authors,
            topics: paper_topics,
            language,
            status,
            published_at,
            canonical_url: None,
            translation_of,
            comments: CommentsMode::Open,
            media,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn kinds() -> Vec<String> {
        quire_core::domain::DEFAULT_KINDS
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn demo_is_deterministic_and_complete() {
        let now = datetime!(2026-06-01 12:00 UTC);
        let a = generate(40, now, &kinds());
        let b = generate(40, now, &kinds());
        assert_eq!(a.papers, b.papers);
        assert_eq!(a.papers.len(), 40);
        let slugs: std::collections::HashSet<_> = a.papers.iter().map(|p| &p.slug).collect();
        assert_eq!(slugs.len(), 40, "slugs are unique");
        assert!(a.papers.iter().any(|p| p.language == "he"));
        assert!(a.papers.iter().any(|p| p.language == "ar"));
        assert!(a.papers.iter().any(|p| p.status == Status::Scheduled));
        assert!(a.papers.iter().any(|p| p.status == Status::Draft));
        assert!(a.papers.iter().any(|p| p.authors.len() > 1));
        let first = &a.papers[0].slug;
        assert_eq!(
            a.papers
                .iter()
                .filter(|p| p.translation_of.as_ref() == Some(first))
                .count(),
            2,
            "the Hebrew and Arabic papers translate the first"
        );
        assert!(a.papers.iter().any(|p| p.topics.len() > 1));
        assert!(
            a.papers.iter().filter(|p| p.body.contains("[^1]:")).count() > 30,
            "footnotes"
        );
        assert!(
            a.papers.iter().filter(|p| p.body.contains("|--")).count() > 30,
            "tables"
        );
        let charted: Vec<_> = a.papers.iter().filter(|p| !p.media.is_empty()).collect();
        assert!(charted.len() >= 10, "figures");
        for p in charted {
            assert!(
                p.body.contains("](figure-1.svg \"Figure 1: Projects completed"),
                "{}",
                p.slug
            );
            let chart = &p.media[0];
            assert_eq!(
                quire_core::domain::check_media(&chart.name, &chart.data),
                Ok((MediaKind::Svg, None))
            );
            let drawn = quire_pdf::check_image(&chart.data, "svg").expect("the typesetter reads the chart");
            assert_eq!(drawn, (480.0, 240.0));
        }
        for p in &a.papers {
            assert!(quire_core::domain::validate_slug(&p.slug).is_ok(), "{}", p.slug);
            for au in &p.authors {
                assert!(a.authors.iter().any(|x| &x.slug == au));
            }
            for t in &p.topics {
                assert!(a.topics.iter().any(|x| &x.slug == t));
            }
        }
        for au in &a.authors {
            assert!(au.validate().is_ok());
        }
    }

    #[test]
    fn small_and_large_demos_work() {
        let now = datetime!(2026-06-01 12:00 UTC);
        assert_eq!(generate(1, now, &kinds()).papers.len(), 1);
        let two = generate(2, now, &kinds());
        assert!(two.papers.iter().any(|p| p.language == "ar") || two.papers.iter().any(|p| p.language == "he"));
        let big = generate(2000, now, &kinds());
        let slugs: std::collections::HashSet<_> = big.papers.iter().map(|p| &p.slug).collect();
        assert_eq!(slugs.len(), 2000);
    }
}
