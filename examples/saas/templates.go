package main

// pageTemplates holds the app's pages (html/template, which escapes every value). Each page defines the
// template named after it; "top" and "bottom" are the shared frame.
const pageTemplates = `
{{define "top"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>` + pageStyle + `</style></head><body>
{{if .S}}<header><strong>{{.S.AccountName}}</strong><a href="/admin">Administration</a><a href="/admin/users">Provisioned users</a><a href="/admin/groups">Teams</a><a href="/admin/roles">Roles</a>
<span class="who">{{.S.Login}}</span>
<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" value="{{.S.CSRF}}"><button>Sign out</button></form>
</header>{{end}}
{{end}}

{{define "bottom"}}</body></html>{{end}}

{{define "login"}}{{template "top" .}}
<h1>Sign in</h1>
{{with .Error}}<p class="error">{{.}}</p>{{end}}
<form method="post" action="/login">
<label>Login <input id="login" name="login" value="{{.Login}}" autocomplete="username" required></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
<button id="sign-in">Sign in</button>
</form>
<p>The demo admins are acme-admin and globex-admin; their passwords are in the file the app names when it starts.</p>
{{template "bottom"}}{{end}}

{{define "admin"}}{{template "top" .}}
<h1>{{.S.AccountName}}</h1>
<h2>Integrations</h2>
<p>Provision this account's users automatically from Microsoft Entra ID, Okta or any SCIM 2.0 client.</p>
{{if .NewToken}}<div class="box" id="new-token">
<p><strong>Your new SCIM token.</strong> Copy it now: it is shown only once (we keep only its hash).</p>
<p>Secret Token: <span class="token" id="token">{{.NewToken}}</span></p>
<p>Tenant URL: <code id="tenant-url">{{.TenantURL}}</code></p>
<p>To connect Microsoft Entra ID:</p>
<ol>
<li>In the Microsoft Entra admin center, open Enterprise applications → New application → Create your own
application, and choose the non-gallery option.</li>
<li>In the app's Provisioning page, set the provisioning mode to Automatic.</li>
<li>Paste the Tenant URL and this token as the Secret Token, then press Test Connection.</li>
<li>Check the attribute mappings (userName ← userPrincipalName is the matching attribute), save, and start
provisioning. The provisioning logs show every user Entra creates, updates or disables here.</li>
</ol>
</div>{{end}}
<form method="post" action="/admin/tokens"><input type="hidden" name="csrf" value="{{.S.CSRF}}">
<button id="generate-token">Generate token</button></form>
<p>Tenant URL: <code>{{.TenantURL}}</code></p>
{{if .Tokens}}<table id="tokens"><tr><th>Token</th><th>Created</th><th></th></tr>
{{range .Tokens}}<tr><td><code>…{{.Last4}}</code></td><td>{{.Created}}</td>
<td><form class="inline" method="post" action="/admin/tokens/{{.ID}}/revoke"><input type="hidden" name="csrf" value="{{$.S.CSRF}}"><button>Revoke</button></form></td></tr>
{{end}}</table>{{else}}<p>No SCIM token yet.</p>{{end}}
{{template "bottom"}}{{end}}

{{define "users"}}{{template "top" .}}
<h1>Provisioned users</h1>
<p>{{.Total}} user(s) provisioned into {{.S.AccountName}} by its identity provider.</p>
{{if .Users}}<table id="users"><tr><th>userName</th><th>displayName</th><th>Roles</th><th>Status</th><th>App sessions</th><th></th></tr>
{{range .Users}}<tr data-user="{{.UserName}}"><td>{{.UserName}}</td><td>{{.DisplayName}}</td><td class="roles">{{range $i, $r := .Roles}}{{if $i}}, {{end}}<code>{{$r}}</code>{{end}}</td>
<td class="status {{if .Active}}active{{else}}inactive{{end}}">{{if .Active}}active{{else}}inactive{{end}}</td>
<td class="sessions">{{.Sessions}}</td>
<td>{{if .Active}}<form class="inline" method="post" action="/admin/users/{{.ID}}/sign-in"><input type="hidden" name="csrf" value="{{$.S.CSRF}}"><button class="sign-in" title="Demo: start an app session as this user">Sign in as</button></form>{{end}}</td></tr>
{{end}}</table>{{else}}<p id="no-users">No users yet: generate a token on the administration page and connect your identity provider.</p>{{end}}
{{template "bottom"}}{{end}}

{{define "groups"}}{{template "top" .}}
<h1>Teams and roles</h1>
<p>{{.Total}} group(s) pushed into {{.S.AccountName}} by its identity provider. Assign groups to the app in the
identity provider (Entra ID: Users and groups; Okta: Push Groups) and they appear here with their members.</p>
{{if .Groups}}<table id="groups"><tr><th>Group</th><th>Members</th></tr>
{{range .Groups}}<tr data-group="{{.ID}}"><td class="group-name">{{.Name}}{{with .ExternalID}}<br><small>{{.}}</small>{{end}}</td>
<td class="members">{{if .More}}more than {{$.MembersPerGroup}} members{{else if .Members}}<ul>{{range .Members}}<li>{{.}}</li>{{end}}</ul>{{else}}no members{{end}}</td></tr>
{{end}}</table>{{else}}<p id="no-groups">No groups yet: assign groups to the app in your identity provider.</p>{{end}}
{{template "bottom"}}{{end}}

{{define "roles"}}{{template "top" .}}
<h1>Roles</h1>
<p>The roles of {{.S.AccountName}} in the app. Okta Identity Governance imports them from
<code>{{.RolesURL}}</code> and grants them to users; a grant of a role not listed here is refused.</p>
{{with .Problem}}<p class="error" id="problem">{{.}}</p>{{end}}
{{if .Roles}}<table id="roles"><tr><th>Key</th><th>Name</th><th>Description</th><th></th></tr>
{{range .Roles}}<tr data-role="{{.ID}}"><td><code>{{.ID}}</code></td><td>{{.Name}}</td><td>{{.Description}}</td>
<td><form class="inline" method="post" action="/admin/roles/{{.ID}}/delete"><input type="hidden" name="csrf" value="{{$.S.CSRF}}"><button>Delete</button></form></td></tr>
{{end}}</table>{{else}}<p id="no-roles">No roles yet.</p>{{end}}
<h2>Add a role</h2>
<form method="post" action="/admin/roles"><input type="hidden" name="csrf" value="{{.S.CSRF}}">
<label>Key <input name="key" required pattern="[a-z][a-z0-9_-]{0,39}" placeholder="editor"></label>
<label>Name <input name="name" required maxlength="200" placeholder="Editor"></label>
<label>Description <input name="description" maxlength="1000"></label>
<button id="add-role">Add role</button></form>
{{template "bottom"}}{{end}}

{{define "app"}}{{template "top" .}}
<h1>The product</h1>
{{if .UserName}}<p id="signed-in">Signed in as <strong>{{.UserName}}</strong> ({{.Account}}).</p>
<p>Deactivate or delete this user in the identity provider and this session ends at once.</p>
{{else}}<p id="signed-out">You are not signed in, or your session was revoked.</p>{{end}}
<p><a href="/admin/users">Provisioned users</a></p>
{{template "bottom"}}{{end}}
`

// pageStyle is the pages' style sheet, inline in every page. The Content-Security-Policy allows it by its
// hash, computed from this constant (pageHeaders): no inline style or script injected into a page can run.
const pageStyle = `
body{font:15px/1.5 system-ui,sans-serif;max-width:56rem;margin:0 auto;padding:1rem 1.5rem;color:#222}
header{display:flex;gap:1rem;align-items:center;border-bottom:1px solid #ddd;padding-bottom:.5rem;margin-bottom:1rem}
header .who{margin-left:auto;color:#666}
form.inline{display:inline}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eee}
code,.token{font-family:ui-monospace,monospace;background:#f4f4f4;padding:.1rem .3rem;word-break:break-all}
.box{border:1px solid #cde;background:#f6fbff;padding:.75rem 1rem;margin:1rem 0}
.active{color:#17692a}.inactive{color:#a12}.error{color:#a12}
button{font:inherit;padding:.25rem .75rem;cursor:pointer}
label{display:block;margin:.5rem 0}
td.members ul{margin:0;padding-left:1.2rem}
small{color:#666}
`
