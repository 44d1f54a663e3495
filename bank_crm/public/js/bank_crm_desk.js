// Bank roles land on their workbench: the desk's bare /app (where login leads) opens
// /app/rm-workbench for a relationship or branch manager; any other link opens as asked.
(function () {
	const landing = window.location.pathname.replace(/\/+$/, "") === "/app";
	$(document).on("startup", () => {
		const roles = frappe.user_roles || [];
		if (landing && (roles.includes("Relationship Manager") || roles.includes("Branch Manager"))) {
			frappe.set_route("rm-workbench");
		}
	});
})();
