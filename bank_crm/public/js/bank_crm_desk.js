// Bank roles land on their workbench: the desk's bare /app (where login leads) opens
// /app/rm-workbench for a relationship or branch manager; any other link opens as asked. This
// runs before the desk routes (frappe.boot is already there), so nothing else loads first.
(function () {
	const path = window.location.pathname.replace(/\/+$/, "");
	const roles = (frappe.boot && frappe.boot.user && frappe.boot.user.roles) || [];
	if (path === "/app" && (roles.includes("Relationship Manager") || roles.includes("Branch Manager"))) {
		window.history.replaceState(null, "", "/app/rm-workbench" + window.location.search);
	}
})();
