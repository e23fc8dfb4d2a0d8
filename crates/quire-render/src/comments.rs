//! The comments under a paper: threads nested to the site's depth, pages of
//! top-level comments, and the "Leave a Reply" form with what the reader
//! typed and what was wrong. Pure: built from comments already read.

use super::DateView;
use quire_core::domain::{CommentStatus, PublicComment, comment_html};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// How the site shows comments.
#[derive(Clone, Copy, Debug)]
pub struct CommentLayout {
    /// Deepest level of replies; 1 means no replies.
    pub depth: u32,
    /// Top-level comments per page.
    pub per_page: u32,
    pub newest_first: bool,
}

/// One comment and the replies under it.
#[derive(Debug, Serialize)]
pub struct CommentNode {
    pub id: i64,
    pub name: String,
    /// The commenter's website, linked from their name.
    pub url: Option<String>,
    pub html: String,
    pub date: DateView,
    /// Waiting for moderation: shown only to its writer.
    pub held: bool,
    /// Where "Reply" leads without script; None at the deepest level.
    pub reply_url: Option<String>,
    pub replies: Vec<CommentNode>,
}

/// What the reader typed and what was wrong, to fill the form again.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CommentFormView {
    pub action: String,
    /// The signed form token.
    pub token: String,
    pub name: String,
    pub email: String,
    pub url: String,
    pub text: String,
    /// The comment replied to, if any.
    pub parent: Option<i64>,
    /// The reader asked to hear of replies by email.
    pub notify_replies: bool,
    pub reply_to_name: Option<String>,
    /// Leaves reply mode: the paper's own comment form.
    pub cancel_reply_url: String,
    /// Problems by field (`name`, `email`, `url`, `text`).
    pub errors: BTreeMap<&'static str, String>,
    /// A problem with the whole submission (expired form, too many
    /// comments, a duplicate).
    pub problem: Option<String>,
}

/// The comments section of a paper's page.
#[derive(Debug, Serialize)]
pub struct CommentsView {
    /// Readers may comment (the form shows) or only read.
    pub open: bool,
    /// Approved comments on the paper.
    pub count: usize,
    pub threads: Vec<CommentNode>,
    pub page: u32,
    pub pages: u32,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
    pub form: Option<CommentFormView>,
    /// When comments closed while a reader wrote one: their text, to keep.
    pub kept_text: Option<String>,
    /// The paper's comments feed.
    pub feed_url: String,
}

/// The top-level comment each comment hangs from (itself, for a top-level
/// one), following parents through the comments shown: a reply whose
/// parent is not shown stands at the top.
fn roots(links: &[(i64, Option<i64>)]) -> HashMap<i64, i64> {
    let parents: HashMap<i64, Option<i64>> = links.iter().copied().collect();
    let mut out = HashMap::with_capacity(links.len());
    for (id, _) in links {
        let mut at = *id;
        let mut steps = 0;
        while let Some(Some(parent)) = parents.get(&at) {
            if !parents.contains_key(parent) || steps > links.len() {
                break;
            }
            at = *parent;
            steps += 1;
        }
        out.insert(*id, at);
    }
    out
}

/// Each comment's id and the id it replies to.
fn links(comments: &[PublicComment]) -> Vec<(i64, Option<i64>)> {
    comments.iter().map(|c| (c.id, c.parent_id)).collect()
}

/// Top-level comments in page order.
fn top_level(links: &[(i64, Option<i64>)], layout: &CommentLayout) -> Vec<i64> {
    let roots = roots(links);
    let mut tops: Vec<i64> = links
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| roots.get(id) == Some(id))
        .collect();
    tops.sort_unstable();
    if layout.newest_first {
        tops.reverse();
    }
    tops
}

/// The page (from 1) that shows comment `id`, for its permalink; `links`
/// are the shown comments' ids and the ids they reply to.
pub fn page_of(links: &[(i64, Option<i64>)], id: i64, layout: &CommentLayout) -> u32 {
    let roots = roots(links);
    let root = roots.get(&id).copied().unwrap_or(id);
    let tops = top_level(links, layout);
    let index = tops.iter().position(|t| *t == root).unwrap_or(0);
    u32::try_from(index / layout.per_page.max(1) as usize).unwrap_or(0) + 1
}

/// The URL of a paper page's comment page `n`.
pub fn comments_page_url(paper_path: &str, n: u32) -> String {
    if n <= 1 {
        format!("{paper_path}#comments")
    } else {
        format!("{paper_path}?cpage={n}#comments")
    }
}

/// Builds the comments section: page `page` of the threads, each comment's
/// replies oldest first, nested to the site's depth (deeper replies join
/// the deepest level, as in WordPress).
pub fn comments_view(
    paper_path: &str,
    comments: &[PublicComment],
    layout: &CommentLayout,
    page: u32,
    form: Option<CommentFormView>,
) -> CommentsView {
    let count = comments.iter().filter(|c| c.status == CommentStatus::Approved).count();
    let links = links(comments);
    let tops = top_level(&links, layout);
    let per_page = layout.per_page.max(1) as usize;
    let pages = u32::try_from(tops.len().div_ceil(per_page)).unwrap_or(u32::MAX).max(1);
    let page = page.clamp(1, pages);
    let shown: Vec<i64> = tops
        .iter()
        .skip((page as usize - 1) * per_page)
        .take(per_page)
        .copied()
        .collect();
    let roots = roots(&links);
    let mut children: HashMap<i64, Vec<&PublicComment>> = HashMap::new();
    for c in comments {
        if roots.get(&c.id) != Some(&c.id)
            && let Some(parent) = c.parent_id
        {
            children.entry(parent).or_default().push(c);
        }
    }
    for list in children.values_mut() {
        list.sort_by_key(|c| c.id);
    }
    let by_id: HashMap<i64, &PublicComment> = comments.iter().map(|c| (c.id, c)).collect();
    let threads = shown
        .iter()
        .filter_map(|id| by_id.get(id))
        .map(|c| node(c, 1, &children, layout, paper_path))
        .collect();
    CommentsView {
        open: form.is_some(),
        count,
        threads,
        page,
        pages,
        prev_url: (page > 1).then(|| comments_page_url(paper_path, page - 1)),
        next_url: (page < pages).then(|| comments_page_url(paper_path, page + 1)),
        form,
        kept_text: None,
        feed_url: format!("{paper_path}comments.atom"),
    }
}

fn node(
    c: &PublicComment,
    level: u32,
    children: &HashMap<i64, Vec<&PublicComment>>,
    layout: &CommentLayout,
    paper_path: &str,
) -> CommentNode {
    let mut replies = Vec::new();
    // Replies below the deepest level are shown at it, in order.
    let mut queue: Vec<&PublicComment> = children.get(&c.id).cloned().unwrap_or_default();
    if level >= layout.depth {
        let mut flat = Vec::new();
        while let Some(next) = queue.first().copied() {
            queue.remove(0);
            flat.push(next);
            queue.extend(children.get(&next.id).cloned().unwrap_or_default());
        }
        flat.sort_by_key(|r| r.id);
        for r in flat {
            replies.push(leaf(r));
        }
    } else {
        for r in queue {
            replies.push(node(r, level + 1, children, layout, paper_path));
        }
    }
    CommentNode {
        reply_url: (level < layout.depth && c.status == CommentStatus::Approved)
            .then(|| format!("{paper_path}?replytocom={}#respond", c.id)),
        replies,
        ..leaf(c)
    }
}

fn leaf(c: &PublicComment) -> CommentNode {
    CommentNode {
        id: c.id,
        name: c.name.clone(),
        url: c.url.clone(),
        html: comment_html(&c.text),
        date: DateView::new(c.created_at),
        held: c.status == CommentStatus::Pending,
        reply_url: None,
        replies: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn c(id: i64, parent: Option<i64>) -> PublicComment {
        PublicComment {
            id,
            parent_id: parent,
            status: CommentStatus::Approved,
            name: format!("N{id}"),
            url: None,
            text: format!("Comment {id}"),
            created_at: datetime!(2026-03-05 10:00 UTC),
        }
    }

    fn layout(depth: u32, per_page: u32, newest_first: bool) -> CommentLayout {
        CommentLayout {
            depth,
            per_page,
            newest_first,
        }
    }

    fn ids(nodes: &[CommentNode]) -> Vec<i64> {
        nodes.iter().map(|n| n.id).collect()
    }

    #[test]
    fn threads_nest_to_the_depth_and_flatten_below_it() {
        // 1 ← 2 ← 3 ← 4, and 5 on its own; 6 replies to a comment not shown.
        let all = [
            c(1, None),
            c(2, Some(1)),
            c(3, Some(2)),
            c(4, Some(3)),
            c(5, None),
            c(6, Some(99)),
        ];
        let v = comments_view("/papers/p/", &all, &layout(2, 50, false), 1, None);
        assert_eq!(ids(&v.threads), [1, 5, 6], "an orphan reply stands at the top");
        assert_eq!(ids(&v.threads[0].replies), [2]);
        assert_eq!(
            ids(&v.threads[0].replies[0].replies),
            [3, 4],
            "deeper replies join the deepest level"
        );
        assert_eq!(
            v.threads[0].reply_url.as_deref(),
            Some("/papers/p/?replytocom=1#respond")
        );
        assert_eq!(
            v.threads[0].replies[0].reply_url, None,
            "no reply link at the deepest level"
        );
        assert_eq!(v.count, 6);
        let flat = comments_view("/papers/p/", &all, &layout(1, 50, false), 1, None);
        assert_eq!(ids(&flat.threads[0].replies), [2, 3, 4]);
        assert!(
            flat.threads.iter().all(|t| t.reply_url.is_none()),
            "depth 1: no replies"
        );
    }

    #[test]
    fn pages_hold_top_level_comments_and_permalinks_find_them() {
        let mut all: Vec<PublicComment> = (1..=5).map(|i| c(i, None)).collect();
        all.push(c(6, Some(1)));
        let l = layout(5, 2, false);
        let p2 = comments_view("/papers/p/", &all, &l, 2, None);
        assert_eq!(ids(&p2.threads), [3, 4]);
        assert_eq!((p2.page, p2.pages), (2, 3));
        assert_eq!(p2.prev_url.as_deref(), Some("/papers/p/#comments"));
        assert_eq!(p2.next_url.as_deref(), Some("/papers/p/?cpage=3#comments"));
        assert_eq!(page_of(&links(&all), 6, &l), 1, "a reply is on its thread's page");
        assert_eq!(page_of(&links(&all), 5, &l), 3);
        let newest = layout(5, 2, true);
        assert_eq!(
            ids(&comments_view("/papers/p/", &all, &newest, 1, None).threads),
            [5, 4]
        );
        assert_eq!(page_of(&links(&all), 1, &newest), 3);
        assert_eq!(
            comments_view("/papers/p/", &all, &l, 99, None).page,
            3,
            "past the end: the last page"
        );
    }

    #[test]
    fn held_comments_are_marked_and_take_no_replies() {
        let mut held = c(2, Some(1));
        held.status = CommentStatus::Pending;
        let v = comments_view("/papers/p/", &[c(1, None), held], &layout(5, 50, false), 1, None);
        assert!(v.threads[0].replies[0].held);
        assert_eq!(v.threads[0].replies[0].reply_url, None);
        assert_eq!(v.count, 1, "the count is of approved comments");
    }
}
