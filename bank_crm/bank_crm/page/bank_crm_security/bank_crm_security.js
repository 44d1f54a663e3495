// The site's settings against the bank's security baseline (bank_crm.bank_crm.page.bank_crm_security.bank_crm_security).
frappe.pages["bank-crm-security"].on_page_load = function (wrapper) {
	const page = frappe.ui.make_app_page({
		parent: wrapper,
		title: __("Bank CRM Security"),
		single_column: true,
	});
	const $body = $(`<div class="bank-crm-security"></div>`).appendTo(page.body);
	const badge = {
		pass: ["green", __("Pass")],
		warn: ["orange", __("Warning")],
		fail: ["red", __("Fail")],
	};

	const render = (findings) => {
		const failed = findings.filter((f) => f.status === "fail").length;
		const warned = findings.filter((f) => f.status === "warn").length;
		const summary = failed
			? __("{0} of {1} checks failed, {2} warnings", [failed, findings.length, warned])
			: __("No check failed ({0} checks, {1} warnings)", [findings.length, warned]);
		const rows = findings
			.map((f) => {
				const [colour, label] = badge[f.status];
				const advice =
					f.status === "pass"
						? ""
						: `<div class="text-muted small">${__("Expected")}: ${frappe.utils.escape_html(f.expected)}</div>
						   <div class="small">${__("Why")}: ${frappe.utils.escape_html(f.why)}</div>
						   <div class="small">${__("Change")}: <code>${frappe.utils.escape_html(f.fix)}</code></div>`;
				return `<tr data-key="${f.key}">
					<td style="width: 8em"><span class="indicator-pill ${colour}">${label}</span></td>
					<td><div class="bold">${frappe.utils.escape_html(f.title)}</div>${advice}</td>
					<td style="width: 28%">${frappe.utils.escape_html(f.current)}</td>
				</tr>`;
			})
			.join("");
		$body.html(`
			<p class="bank-crm-security-summary ${failed ? "text-danger" : "text-success"} bold">${summary}</p>
			<p class="text-muted small">${__(
				"The same check from a shell, exiting non-zero on a failure: {0}",
				["<code>bench --site SITE execute bank_crm.bank_crm.page.bank_crm_security.bank_crm_security.check</code>"]
			)}</p>
			<table class="table table-bordered">
				<thead><tr><th>${__("Status")}</th><th>${__("Check")}</th><th>${__("Now")}</th></tr></thead>
				<tbody>${rows}</tbody>
			</table>`);
	};

	const load = () =>
		frappe.call({ method: "bank_crm.api.security.findings", type: "GET" }).then((r) => render(r.message || []));

	page.set_primary_action(__("Check Again"), load, "refresh");
	page.add_inner_button(__("Confirm Encryption Key Backup"), () => {
		frappe.confirm(
			__(
				"Confirm that the encryption key in this site's site_config.json is stored in the bank's key vault. The confirmation lapses when the key changes."
			),
			() =>
				frappe
					.call({ method: "bank_crm.api.security.confirm_key_backup" })
					.then(() => {
						frappe.show_alert({ message: __("Key backup confirmed"), indicator: "green" });
						load();
					})
		);
	});
	load();
};
