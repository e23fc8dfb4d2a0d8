//! The admin's first page: what the site holds, what waits, and the
//! signed-in account.

use super::session::SignedIn;
use super::{admin_page, chrome, failed};
use crate::AppState;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{Response, StatusCode};
use quire_app::AppError;
use quire_core::domain::Status;
use quire_render::admin::{DashboardView, GlanceItem};
use serde::Deserialize;

#[derive(Deserialize)]
pub(crate) struct DashboardQuery {
    welcome: Option<String>,
}

fn status_label(status: Status, n: u64) -> String {
    let word = match status {
        Status::Draft => "draft",
        Status::Scheduled => "scheduled",
        Status::Published => "published",
        Status::Archived => "archived",
    };
    format!("{word} paper{}", if n == 1 { "" } else { "s" })
}

/// `GET /admin/`.
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(query): Query<DashboardQuery>,
) -> Response<Body> {
    let page = async {
        let overview = state.app.overview(signed.staff()).await?;
        let mut glance: Vec<GlanceItem> = overview
            .papers
            .iter()
            .map(|&(status, count)| GlanceItem {
                count,
                label: status_label(status, count),
                href: Some(format!("/admin/papers?status={}", status.as_str())),
            })
            .collect();
        glance.push(GlanceItem {
            count: overview.submitted,
            label: format!(
                "draft{} waiting for review",
                if overview.submitted == 1 { "" } else { "s" }
            ),
            href: Some("/admin/papers?status=review".into()),
        });
        glance.push(GlanceItem {
            count: overview.trashed,
            label: "in the trash".into(),
            href: Some("/admin/papers?status=trash".into()),
        });
        if let Some(pending) = overview.pending_comments {
            glance.push(GlanceItem {
                count: pending,
                label: format!("comment{} waiting for moderation", if pending == 1 { "" } else { "s" }),
                href: Some("/admin/comments".into()),
            });
        }
        let mut chrome = chrome(&state, Some(&signed), "/admin/").await?;
        if query.welcome.is_some() {
            chrome.notice = Some("Your password is set, and you are signed in.".into());
        }
        let view = DashboardView {
            glance,
            sessions: overview.sessions,
        };
        Ok::<_, AppError>(state.admin.dashboard(&chrome, &view))
    };
    match page.await {
        Ok(Ok(html)) => admin_page(StatusCode::OK, html),
        Ok(Err(e)) => state.error_page(&e.into()),
        Err(e) => failed(&state, e),
    }
}
