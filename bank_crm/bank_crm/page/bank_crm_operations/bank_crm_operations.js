// 运行监控: the app's scheduled jobs, backlogs and Frappe's health figures (bank_crm.bank_crm.operations).
frappe.pages["bank-crm-operations"].on_page_load = function (wrapper) {
	const page = frappe.ui.make_app_page({
		parent: wrapper,
		title: __("Bank CRM Operations"),
		single_column: true,
	});
	const $body = $(`<div class="bank-crm-operations"></div>`).appendTo(page.body);
	const esc = (v) => frappe.utils.escape_html(v == null ? "" : String(v));
	// comment_when builds its own markup from a date string
	const when = (v) => (v ? frappe.datetime.comment_when(v) : `<span class="text-muted">${__("Never")}</span>`);
	const seconds = (v) => (v == null ? "–" : v < 120 ? `${Math.round(v)} s` : `${(v / 60).toFixed(1)} min`);
	const pill = (colour, text) => `<span class="indicator-pill ${colour}">${esc(text)}</span>`;
	const link = (doctype, name) => `<a href="/app/${frappe.router.slug(doctype)}/${encodeURIComponent(name)}">${esc(name)}</a>`;

	const status_pill = (job) => {
		if (job.stopped) return pill("gray", __("Stopped"));
		if (job.late) return pill("red", __("Late"));
		if (job.last_status === "Failed") return pill("red", __("Failed"));
		const open = job.runs.find((r) => r.open_run);
		if (open && (open.open_run.failed_shards || open.open_run.orphaned_shards)) return pill("orange", __("Needs attention"));
		if (job.last_status === "Start") return pill("blue", __("Running"));
		return job.last_success ? pill("green", __("OK")) : pill("gray", __("Not run yet"));
	};

	const runs_cell = (runs) =>
		runs
			.map((r) => {
				const trend = r.durations.length ? r.durations.map(seconds).join(" · ") : "–";
				let open = "";
				if (r.open_run) {
					const o = r.open_run;
					const shards = Object.entries(o.shards).map(([s, n]) => `${__(s)} ${n}`).join(", ");
					open = `<div class="small">${__("Open run")}: ${link(r.run_doctype, o.name)} (${__(o.status)}, ${__("since")} ${when(o.since)})<br>${__("Shards")}: ${esc(shards)}
						${o.failed_shards ? `<span class="text-danger"> · ${__("{0} failed", [o.failed_shards])}</span>` : ""}
						${o.orphaned_shards ? `<span class="text-danger"> · ${__("{0} orphaned", [o.orphaned_shards])}</span>` : ""}</div>`;
				}
				return `<div><span class="text-muted small">${__(r.run_doctype)}</span>: ${
					r.last_completed ? `${__("last completed")} ${when(r.last_completed_at)} (${link(r.run_doctype, r.last_completed)})` : __("no completed run")
				}<div class="small text-muted">${__("Durations, newest first")}: ${trend}</div>${open}</div>`;
			})
			.join("");

	const jobs_table = (data) => {
		const late = new Set(data.late_nightly_jobs);
		const rows = data.jobs
			.map((j) => {
				j.late = late.has(j.job_type);
				const trend = j.durations.length ? j.durations.map(seconds).join(" · ") : "–";
				return `<tr data-job="${esc(j.job_type)}">
					<td style="white-space: nowrap">${status_pill(j)}</td>
					<td><div class="bold">${esc(j.title)}</div><div class="small text-muted">${esc(j.method)}</div></td>
					<td style="white-space: nowrap">${esc(__(j.frequency))}${j.cron_format ? `<div><code>${esc(j.cron_format)}</code></div>` : ""}</td>
					<td>${when(j.last_success)}<div class="small text-muted">${__("Durations, newest first")}: ${trend}</div></td>
					<td>${j.last_failure ? `${when(j.last_failure)}<div class="small text-danger">${esc(j.last_failure_reason)}</div>` : "–"}</td>
					<td>${runs_cell(j.runs) || "–"}</td>
				</tr>`;
			})
			.join("");
		return `<table class="table table-bordered bank-crm-operations-jobs">
			<thead><tr><th style="width: 8%">${__("Status")}</th><th style="width: 22%">${__("Job")}</th><th style="width: 9%">${__("Frequency")}</th><th style="width: 15%">${__("Last Success")}</th><th style="width: 16%">${__("Last Failure")}</th><th>${__("Runs and Shards")}</th></tr></thead>
			<tbody>${rows}</tbody></table>`;
	};

	const card = (label, value, note, bad) => `<div class="col-sm-3"><div class="border rounded p-3 mb-3">
		<div class="text-muted small">${label}</div>
		<div class="h4 ${bad ? "text-danger" : ""}" style="margin: 4px 0">${esc(value)}</div>
		<div class="small text-muted">${note || ""}</div></div></div>`;

	const backlog_cards = (b) => `<div class="row">
		${card(__("Events awaiting detection"), b.events_awaiting_detection, b.oldest_event_waiting ? `${__("oldest")} ${when(b.oldest_event_waiting)}` : "")}
		${card(__("Messages queued or sending"), b.messages.Queued + b.messages.Sending, b.oldest_message_waiting ? `${__("oldest")} ${when(b.oldest_message_waiting)}` : "")}
		${card(__("Messages failed or dead"), b.messages.Failed + b.messages.Dead, `${__("Failed")} ${b.messages.Failed} · ${__("Dead")} ${b.messages.Dead}`, b.messages.Dead > 0)}
		${card(__("Service requests past or near deadline"), `${b.service_requests.breached} / ${b.service_requests.due_soon}`, __("past deadline / due within {0} h", [b.hours]), b.service_requests.breached > 0)}
		${card(__("Complaints past or near deadline"), `${b.complaints.breached} / ${b.complaints.due_soon}`, __("past deadline / due within {0} h", [b.hours]), b.complaints.breached > 0)}
	</div>`;

	const health_section = (h) => {
		const workers = h.workers.map((w) => `${esc(w.queues)}: ${w.count}`).join(", ") || __("none");
		const queues = h.queues.map((q) => `${esc(q.queue)} ${q.pending_jobs}`).join(" · ");
		const failing = h.failing_scheduled_jobs.map((j) => `${esc(j.job)} (${Math.round(j.failure_rate)}%)`).join(", ");
		return `<div class="row">
			${card(__("Scheduler"), __(h.scheduler_status || "unknown"), h.oldest_unscheduled_job ? `${__("Overdue")}: ${esc(h.oldest_unscheduled_job)}` : "", h.scheduler_status !== "active")}
			${card(__("Background workers"), h.total_background_workers ?? "–", workers, !h.total_background_workers)}
			${card(__("Jobs waiting per queue"), queues || "–", "")}
			${card(__("E-mails pending / failed (7 days)"), `${h.pending_emails ?? "–"} / ${h.failed_emails ?? "–"}`, "", h.failed_emails > 0)}
			${card(__("Errors in the last day"), h.errors_last_day ?? "–", "", h.errors_last_day > 0)}
		</div>${failing ? `<p class="small">${__("Failing scheduled jobs (7 days)")}: ${failing}</p>` : ""}`;
	};

	const failed_jobs = (rows) =>
		rows.length
			? `<table class="table table-bordered small"><thead><tr><th>${__("Job")}</th><th>${__("Queue")}</th><th>${__("Jobs")}</th><th>${__("Last Ended")}</th><th>${__("Error")}</th></tr></thead><tbody>${rows
					.map((r) => `<tr><td>${esc(r.job_name)}</td><td>${esc(r.queue)}</td><td>${r.count}</td><td>${when(r.ended_at)}</td><td class="text-danger">${esc(r.error)}</td></tr>`)
					.join("")}</tbody></table>`
			: `<p class="text-muted">${__("No failed background job of Bank CRM.")}</p>`;

	const render = (data) => {
		const late = data.late_nightly_jobs.length
			? `<div class="alert alert-danger bank-crm-operations-late">${__("Nightly jobs not completed by {0}: {1}", [
					esc(data.nightly_due_by),
					data.jobs.filter((j) => data.late_nightly_jobs.includes(j.job_type)).map((j) => esc(j.title)).join(", "),
			  ])}</div>`
			: "";
		const system_links = frappe.user.has_role("System Manager")
			? `<p class="small">${__("Frappe's own views")}: <a href="/app/system-health-report">${__("System Health Report")}</a> · <a href="/app/rq-job">${__("RQ Job")}</a> · <a href="/app/scheduled-job-log">${__("Scheduled Job Log")}</a></p>`
			: "";
		$body.html(`${late}
			<p class="text-muted small">${__("As of {0}. Nightly jobs are due by {1} (Bank CRM Settings).", [esc(frappe.datetime.str_to_user(data.generated_at)), esc(data.nightly_due_by || "–")])}</p>
			${system_links}
			<h5>${__("Scheduled Jobs")}</h5>${jobs_table(data)}
			<h5>${__("Backlogs")}</h5>${backlog_cards(data.backlogs)}
			<h5>${__("System Health")}</h5>${health_section(data.health)}
			<h5>${__("Failed Background Jobs")}</h5>${failed_jobs(data.failed_background_jobs)}`);
	};

	const load = () =>
		frappe.call({ method: "bank_crm.api.operations.overview", type: "GET" }).then((r) => render(r.message));
	page.set_primary_action(__("Refresh"), load, "refresh");
	load();
};
