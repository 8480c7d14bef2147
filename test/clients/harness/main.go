// Drives Harness's real Go SDK (harness/harness-go-sdk) against a Keyward: the NextGen client
// (harness/nextgen) and the CG client's UserClient (harness/cd), as Terraform's providers call them.
//
// Every 2xx body is decoded again into the SDK's own types, strictly (unknown fields are an error),
// because the generated NextGen code swallows decode errors; then fields are checked. Each failed
// check is printed as "FAIL ..."; the program exits non-zero if any failed. The last line is
// "RESULT {json}" with what it left in place, for the caller to check through Keyward's own API.
//
// Usage: harness-check -endpoint http://127.0.0.1:PORT[/gateway] -account ACC -token PAT -user USERID -prefix p1
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/antihax/optional"
	"github.com/harness/harness-go-sdk/harness/cd"
	"github.com/harness/harness-go-sdk/harness/cd/graphql"
	"github.com/harness/harness-go-sdk/harness/nextgen"
	"github.com/harness/harness-go-sdk/logging"
	retryablehttp "github.com/hashicorp/go-retryablehttp"
	log "github.com/sirupsen/logrus"
)

// ---- recording transport and checks ------------------------------------------------------------

// recorder keeps the last response's status and body, so each answer can be decoded again.
type recorder struct {
	base   http.RoundTripper
	status int
	body   []byte
	what   string
	calls  int
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.base.RoundTrip(req)
	r.calls++
	r.what = req.Method + " " + req.URL.Path
	if err != nil {
		r.status, r.body = 0, nil
		return res, err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(b))
	r.status, r.body = res.StatusCode, b
	return res, nil
}

var (
	rec      = &recorder{base: http.DefaultTransport}
	failures = 0
	checks   = 0
)

func fail(format string, args ...interface{}) {
	failures++
	fmt.Printf("FAIL %s\n", fmt.Sprintf(format, args...))
}

func check(ok bool, format string, args ...interface{}) {
	checks++
	if !ok {
		fail(format, args...)
	}
}

func eq(name string, got, want interface{}) {
	check(reflect.DeepEqual(got, want), "%s: got %#v, want %#v", name, got, want)
}

func body() string {
	s := string(rec.body)
	if len(s) > 600 {
		s = s[:600] + "..."
	}
	return s
}

// called checks that the SDK call succeeded with a 2xx status.
func called(name string, err error) bool {
	checks++
	if err != nil {
		msg := err.Error()
		if gse, ok := err.(nextgen.GenericSwaggerError); ok {
			msg += " " + string(gse.Body())
		}
		fail("%s: %s (%d %s: %s)", name, msg, rec.status, rec.what, body())
		return false
	}
	if rec.status < 200 || rec.status > 299 {
		fail("%s: HTTP %d: %s", name, rec.status, body())
		return false
	}
	return true
}

// strict decodes the last body into v, refusing fields the SDK's types do not have.
func strict(name string, v interface{}) bool {
	checks++
	d := json.NewDecoder(bytes.NewReader(rec.body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		fail("%s: the body does not decode strictly into %T: %s: %s", name, v, err, body())
		return false
	}
	return true
}

// Fields Harness's own servers send that this SDK's generated types lack (the SDK's swagger
// predates them): PageResponse.pageToken, ProjectResponse.isFavorite, UserGroupDTO.harnessManaged.
// strictBut drops exactly these keys, wherever they are, then decodes strictly.
var harnessExtras = map[string]bool{"pageToken": true, "isFavorite": true, "harnessManaged": true}

func drop(v interface{}, keys map[string]bool) {
	switch x := v.(type) {
	case map[string]interface{}:
		for k, e := range x {
			if keys[k] {
				delete(x, k)
			} else {
				drop(e, keys)
			}
		}
	case []interface{}:
		for _, e := range x {
			drop(e, keys)
		}
	}
}

func strictBut(name string, v interface{}, keys map[string]bool) bool {
	var tree interface{}
	if err := json.Unmarshal(rec.body, &tree); err != nil {
		checks++
		fail("%s: the body is not JSON: %s: %s", name, err, body())
		return false
	}
	drop(tree, keys)
	saved := rec.body
	rec.body, _ = json.Marshal(tree)
	ok := strict(name, v)
	rec.body = saved
	return ok
}

// ngStrict decodes a NextGen body strictly into the SDK's type, allowing only harnessExtras.
func ngStrict(name string, v interface{}) bool {
	return strictBut(name, v, harnessExtras)
}

func envelope(name string, status string, correlationId string) {
	eq(name+" status", status, "SUCCESS")
	check(correlationId != "", "%s: correlationId is empty", name)
}

// ---- NextGen -----------------------------------------------------------------------------------

type ng struct {
	c   *nextgen.APIClient
	ctx context.Context
	acc string
	p   string
	// the admin user's id, parent of USER keys
	user string
	// the server's clock, epoch ms (tests run Keyward on a fixed clock)
	now int64
}

func (n *ng) organizationsAndProjects() (org string) {
	org = n.p + "_org"
	desc := "made by the Go SDK"
	o, _, err := n.c.OrganizationApi.PostOrganization(n.ctx, nextgen.OrganizationRequest{Organization: &nextgen.Organization{Identifier: org, Name: "Go SDK org", Description: desc, Tags: map[string]string{"team": "sdk"}}}, n.acc)
	if called("PostOrganization", err) {
		var s nextgen.ResponseDtoOrganizationResponse
		if ngStrict("PostOrganization", &s) {
			envelope("PostOrganization", s.Status, s.CorrelationId)
			eq("PostOrganization identifier", s.Data.Organization.Identifier, org)
			eq("PostOrganization tags", s.Data.Organization.Tags, map[string]string{"team": "sdk"})
			check(s.Data.CreatedAt > 0, "PostOrganization createdAt missing")
		}
		eq("PostOrganization (SDK) name", o.Data.Organization.Name, "Go SDK org")
	}
	_, _, err = n.c.OrganizationApi.GetOrganization(n.ctx, org, n.acc)
	if called("GetOrganization", err) {
		var s nextgen.ResponseDtoOrganizationResponse
		if ngStrict("GetOrganization", &s) {
			eq("GetOrganization description", s.Data.Organization.Description, desc)
		}
	}
	_, _, err = n.c.OrganizationApi.GetOrganizationList(n.ctx, n.acc, &nextgen.OrganizationApiGetOrganizationListOpts{SearchTerm: optional.NewString(org), PageSize: optional.NewInt32(10)})
	if called("GetOrganizationList", err) {
		var s nextgen.ResponseDtoPageResponseOrganizationResponse
		if ngStrict("GetOrganizationList", &s) {
			found := false
			for _, o := range s.Data.Content {
				found = found || o.Organization.Identifier == org
			}
			check(found, "GetOrganizationList: %s not listed", org)
		}
	}
	_, _, err = n.c.OrganizationApi.PutOrganization(n.ctx, nextgen.OrganizationRequest{Organization: &nextgen.Organization{Identifier: org, Name: "Go SDK org renamed"}}, n.acc, org, nil)
	if called("PutOrganization", err) {
		var s nextgen.ResponseDtoOrganizationResponse
		if ngStrict("PutOrganization", &s) {
			eq("PutOrganization name", s.Data.Organization.Name, "Go SDK org renamed")
		}
	}

	proj := n.p + "_proj"
	_, _, err = n.c.ProjectApi.PostProject(n.ctx, nextgen.ProjectRequest{Project: &nextgen.Project{OrgIdentifier: org, Identifier: proj, Name: "Go SDK project", Color: "#0063F7"}}, n.acc, &nextgen.ProjectApiPostProjectOpts{OrgIdentifier: optional.NewString(org)})
	if called("PostProject", err) {
		var s nextgen.ResponseDtoProjectResponse
		if ngStrict("PostProject", &s) {
			eq("PostProject identifier", s.Data.Project.Identifier, proj)
			eq("PostProject org", s.Data.Project.OrgIdentifier, org)
		}
	}
	_, _, err = n.c.ProjectApi.GetProject(n.ctx, proj, n.acc, &nextgen.ProjectApiGetProjectOpts{OrgIdentifier: optional.NewString(org)})
	if called("GetProject", err) {
		var s nextgen.ResponseDtoProjectResponse
		if ngStrict("GetProject", &s) {
			eq("GetProject name", s.Data.Project.Name, "Go SDK project")
		}
	}
	_, _, err = n.c.ProjectApi.GetProjectList(n.ctx, n.acc, &nextgen.ProjectApiGetProjectListOpts{OrgIdentifier: optional.NewString(org)})
	if called("GetProjectList", err) {
		var s nextgen.ResponseDtoPageResponseProjectResponse
		if ngStrict("GetProjectList", &s) {
			eq("GetProjectList count", len(s.Data.Content), 1)
		}
	}
	_, _, err = n.c.ProjectApi.PutProject(n.ctx, nextgen.ProjectRequest{Project: &nextgen.Project{OrgIdentifier: org, Identifier: proj, Name: "Go SDK project renamed"}}, n.acc, proj, &nextgen.ProjectApiPutProjectOpts{OrgIdentifier: optional.NewString(org)})
	if called("PutProject", err) {
		var s nextgen.ResponseDtoProjectResponse
		if ngStrict("PutProject", &s) {
			eq("PutProject name", s.Data.Project.Name, "Go SDK project renamed")
		}
	}
	_, _, err = n.c.ProjectApi.DeleteProject(n.ctx, proj, n.acc, &nextgen.ProjectApiDeleteProjectOpts{OrgIdentifier: optional.NewString(org)})
	if called("DeleteProject", err) {
		var s nextgen.ResponseDtoBoolean
		if ngStrict("DeleteProject", &s) {
			eq("DeleteProject data", s.Data, true)
		}
	}
	_, _, err = n.c.ProjectApi.GetProject(n.ctx, proj, n.acc, &nextgen.ProjectApiGetProjectOpts{OrgIdentifier: optional.NewString(org)})
	// Keyward answers a missing project as Harness does: 400 RESOURCE_NOT_FOUND_EXCEPTION, which Terraform takes as "gone".
	check(err != nil && rec.status == 400 && strings.Contains(string(rec.body), "RESOURCE_NOT_FOUND_EXCEPTION"), "GetProject after delete: want 400 RESOURCE_NOT_FOUND_EXCEPTION, got %d %s", rec.status, body())
	return org
}

// tokens creates, lists, updates, rotates and deletes tokens of one key; returns the identifier of a token kept.
func (n *ng) tokens(keyType, parent, key string) (kept string, keptValue string) {
	now := n.now
	mk := func(id string) string {
		t := nextgen.Token{Identifier: id, Name: id + " name", ApiKeyIdentifier: key, ParentIdentifier: parent, ApiKeyType: keyType, AccountIdentifier: n.acc, ValidFrom: now - 1000, ValidTo: now + 30*24*3600*1000, Description: "a token", Tags: map[string]string{"k": "v"}}
		_, _, err := n.c.TokenApi.CreateToken(n.ctx, n.acc, &nextgen.TokenApiCreateTokenOpts{Body: optional.NewInterface(t)})
		if !called("CreateToken "+keyType, err) {
			return ""
		}
		var s nextgen.ResponseDtoString
		if !ngStrict("CreateToken "+keyType, &s) {
			return ""
		}
		prefix := "pat."
		if keyType == "SERVICE_ACCOUNT" {
			prefix = "sat."
		}
		check(strings.HasPrefix(s.Data, prefix+n.acc+"."), "CreateToken %s: value %q does not start with %s<account>.", keyType, s.Data, prefix)
		return s.Data
	}
	t1 := n.p + "_t1"
	t2 := n.p + "_t2"
	keptValue = mk(t1)
	mk(t2)
	_, _, err := n.c.TokenApi.ListAggregatedTokens(n.ctx, n.acc, keyType, parent, key, &nextgen.TokenApiListAggregatedTokensOpts{PageSize: optional.NewInt32(10)})
	if called("ListAggregatedTokens "+keyType, err) {
		var s nextgen.ResponseDtoPageResponseTokenAggregate
		if ngStrict("ListAggregatedTokens "+keyType, &s) {
			eq("ListAggregatedTokens count "+keyType, s.Data.TotalItems, int64(2))
			for _, t := range s.Data.Content {
				check(t.Token != nil && t.Token.Valid, "ListAggregatedTokens %s: token %v not valid", keyType, t.Token)
				check(t.CreatedAt > 0 && t.ExpiryAt > 0, "ListAggregatedTokens %s: createdAt/expiryAt missing", keyType)
			}
		}
	}
	upd := nextgen.Token{Identifier: t1, Name: "renamed token", ApiKeyIdentifier: key, ParentIdentifier: parent, ApiKeyType: keyType, AccountIdentifier: n.acc, ValidFrom: now - 1000, ValidTo: now + 30*24*3600*1000}
	_, _, err = n.c.TokenApi.UpdateToken(n.ctx, n.acc, t1, &nextgen.TokenApiUpdateTokenOpts{Body: optional.NewInterface(upd)})
	if called("UpdateToken "+keyType, err) {
		var s nextgen.ResponseDtoToken
		if ngStrict("UpdateToken "+keyType, &s) {
			eq("UpdateToken name "+keyType, s.Data.Name, "renamed token")
			eq("UpdateToken apiKeyType "+keyType, s.Data.ApiKeyType, keyType)
		}
	}
	_, _, err = n.c.TokenApi.RotateToken(n.ctx, t2, n.acc, keyType, parent, key, &nextgen.TokenApiRotateTokenOpts{RotateTimestamp: optional.NewInt64(now + 3600*1000)})
	if called("RotateToken "+keyType, err) {
		var s nextgen.ResponseDtoString
		if ngStrict("RotateToken "+keyType, &s) {
			check(strings.Count(s.Data, ".") == 3, "RotateToken %s: value %q is not a token", keyType, s.Data)
		}
	}
	_, _, err = n.c.TokenApi.ListAggregatedTokens(n.ctx, n.acc, keyType, parent, key, &nextgen.TokenApiListAggregatedTokensOpts{})
	if called("ListAggregatedTokens after rotate "+keyType, err) {
		var s nextgen.ResponseDtoPageResponseTokenAggregate
		if ngStrict("ListAggregatedTokens after rotate "+keyType, &s) {
			eq("tokens after rotate "+keyType, s.Data.TotalItems, int64(3))
			rotated := 0
			for _, t := range s.Data.Content {
				if t.Token.ScheduledExpireTime > 0 {
					rotated++
				}
			}
			eq("tokens scheduled to expire "+keyType, rotated, 1)
		}
	}
	_, _, err = n.c.TokenApi.DeleteToken(n.ctx, t2, n.acc, keyType, parent, key, nil)
	if called("DeleteToken "+keyType, err) {
		var s nextgen.ResponseDtoBoolean
		if ngStrict("DeleteToken "+keyType, &s) {
			eq("DeleteToken data "+keyType, s.Data, true)
		}
	}
	return t1, keptValue
}

// apiKey creates a key of the type under the parent, reads, lists and updates it.
func (n *ng) apiKey(keyType, parent, id string) bool {
	k := nextgen.ApiKey{Identifier: id, Name: id + " name", ApiKeyType: keyType, ParentIdentifier: parent, AccountIdentifier: n.acc, DefaultTimeToExpireToken: 30 * 24 * 3600 * 1000, Description: "a key", Tags: map[string]string{"a": "b"}}
	_, _, err := n.c.ApiKeyApi.CreateApiKey(n.ctx, n.acc, &nextgen.ApiKeyApiCreateApiKeyOpts{Body: optional.NewInterface(k)})
	if !called("CreateApiKey "+keyType, err) {
		return false
	}
	var s nextgen.ResponseDtoApiKey
	if ngStrict("CreateApiKey "+keyType, &s) {
		eq("CreateApiKey identifier "+keyType, s.Data.Identifier, id)
		eq("CreateApiKey parent "+keyType, s.Data.ParentIdentifier, parent)
		eq("CreateApiKey tags "+keyType, s.Data.Tags, map[string]string{"a": "b"})
	}
	_, _, err = n.c.ApiKeyApi.GetAggregatedApiKey(n.ctx, n.acc, keyType, parent, id, nil)
	if called("GetAggregatedApiKey "+keyType, err) {
		var s nextgen.ResponseDtoApiKeyAggregate
		if ngStrict("GetAggregatedApiKey "+keyType, &s) {
			eq("GetAggregatedApiKey identifier "+keyType, s.Data.ApiKey.Identifier, id)
			check(s.Data.CreatedAt > 0, "GetAggregatedApiKey %s: createdAt missing", keyType)
		}
	}
	_, _, err = n.c.ApiKeyApi.ListApiKeys(n.ctx, n.acc, keyType, parent, &nextgen.ApiKeyApiListApiKeysOpts{Identifiers: optional.NewInterface([]string{id})})
	if called("ListApiKeys "+keyType, err) {
		var s nextgen.ResponseDtoListApiKey
		if ngStrict("ListApiKeys "+keyType, &s) {
			check(len(s.Data) == 1 && s.Data[0].Identifier == id, "ListApiKeys %s by identifier: %+v", keyType, s.Data)
		}
	}
	_, _, err = n.c.ApiKeyApi.ListApiKeys1(n.ctx, n.acc, keyType, parent, &nextgen.ApiKeyApiListApiKeys1Opts{PageSize: optional.NewInt32(10), SearchTerm: optional.NewString(id)})
	if called("ListApiKeys1 "+keyType, err) {
		var s nextgen.ResponseDtoPageResponseApiKeyAggregate
		if ngStrict("ListApiKeys1 "+keyType, &s) {
			check(s.Data.TotalItems >= 1 && s.Data.Content[0].ApiKey.Identifier == id, "ListApiKeys1 %s by search term: %+v", keyType, s.Data)
		}
	}
	k.Name = "renamed key"
	k.Description = "renamed"
	_, _, err = n.c.ApiKeyApi.UpdateApiKey(n.ctx, id, &nextgen.ApiKeyApiUpdateApiKeyOpts{Body: optional.NewInterface(k)})
	if called("UpdateApiKey "+keyType, err) {
		var s nextgen.ResponseDtoApiKey
		if ngStrict("UpdateApiKey "+keyType, &s) {
			eq("UpdateApiKey name "+keyType, s.Data.Name, "renamed key")
		}
	}
	return true
}

type ngResult struct {
	Org            string `json:"org"`
	ServiceAccount string `json:"serviceAccount"`
	SaKey          string `json:"saKey"`
	SaToken        string `json:"saToken"`
	SaTokenValue   string `json:"saTokenValue"`
	UserKey        string `json:"userKey"`
	UserGroup      string `json:"userGroup"`
	RoleAssignment string `json:"roleAssignment"`
}

func (n *ng) run() ngResult {
	var out ngResult
	out.Org = n.organizationsAndProjects()

	sa := n.p + "_sa"
	_, _, err := n.c.ServiceAccountApi.CreateServiceAccount(n.ctx, nextgen.ServiceAccount{Identifier: sa, Name: "Go SDK robot", Email: sa + "@service.harness.io", AccountIdentifier: n.acc, Description: "robot", Tags: map[string]string{"x": "y"}}, n.acc, nil)
	if called("CreateServiceAccount", err) {
		var s nextgen.ResponseDtoServiceAccount
		if ngStrict("CreateServiceAccount", &s) {
			envelope("CreateServiceAccount", s.Status, s.CorrelationId)
			eq("CreateServiceAccount identifier", s.Data.Identifier, sa)
			eq("CreateServiceAccount email", s.Data.Email, sa+"@service.harness.io")
		}
		out.ServiceAccount = sa
	}
	_, _, err = n.c.ServiceAccountApi.ListServiceAccount(n.ctx, n.acc, &nextgen.ServiceAccountApiListServiceAccountOpts{Identifiers: optional.NewInterface([]string{sa})})
	if called("ListServiceAccount", err) {
		var s nextgen.ResponseDtoListServiceAccount
		if ngStrict("ListServiceAccount", &s) {
			eq("ListServiceAccount count", len(s.Data), 1)
		}
	}
	_, _, err = n.c.ServiceAccountApi.GetAggregatedServiceAccount(n.ctx, n.acc, sa, nil)
	if called("GetAggregatedServiceAccount", err) {
		var s nextgen.ResponseDtoServiceAccountAggregate
		if ngStrict("GetAggregatedServiceAccount", &s) {
			eq("GetAggregatedServiceAccount name", s.Data.ServiceAccount.Name, "Go SDK robot")
		}
	}
	_, _, err = n.c.ServiceAccountApi.ListAggregatedServiceAccounts(n.ctx, n.acc, &nextgen.ServiceAccountApiListAggregatedServiceAccountsOpts{SearchTerm: optional.NewString(sa)})
	if called("ListAggregatedServiceAccounts", err) {
		var s nextgen.ResponseDtoPageResponseServiceAccountAggregate
		if ngStrict("ListAggregatedServiceAccounts", &s) {
			eq("ListAggregatedServiceAccounts total", s.Data.TotalItems, int64(1))
		}
	}
	_, _, err = n.c.ServiceAccountApi.UpdateServiceAccount(n.ctx, nextgen.ServiceAccount{Identifier: sa, Name: "Go SDK robot renamed", Email: sa + "@service.harness.io", AccountIdentifier: n.acc}, n.acc, sa, nil)
	if called("UpdateServiceAccount", err) {
		var s nextgen.ResponseDtoServiceAccount
		if ngStrict("UpdateServiceAccount", &s) {
			eq("UpdateServiceAccount name", s.Data.Name, "Go SDK robot renamed")
		}
	}

	// SERVICE_ACCOUNT and USER keys, each with tokens.
	saKey := n.p + "_sakey"
	if n.apiKey("SERVICE_ACCOUNT", sa, saKey) {
		out.SaKey = saKey
		out.SaToken, out.SaTokenValue = n.tokens("SERVICE_ACCOUNT", sa, saKey)
	}
	userKey := n.p + "_userkey"
	if n.apiKey("USER", n.user, userKey) {
		out.UserKey = userKey
		n.tokens("USER", n.user, userKey)
	}
	// A second key, deleted.
	gone := n.p + "_gone"
	if n.apiKey("SERVICE_ACCOUNT", sa, gone) {
		_, _, err = n.c.ApiKeyApi.DeleteApiKey(n.ctx, n.acc, "SERVICE_ACCOUNT", sa, gone, nil)
		if called("DeleteApiKey", err) {
			var s nextgen.ResponseDtoBoolean
			if ngStrict("DeleteApiKey", &s) {
				eq("DeleteApiKey data", s.Data, true)
			}
		}
	}

	// User groups and role assignments.
	ug := n.p + "_ug"
	_, _, err = n.c.UserGroupApi.PostUserGroup(n.ctx, nextgen.UserGroup{AccountIdentifier: n.acc, Identifier: ug, Name: "Go SDK group", Description: "ng group", Tags: map[string]string{"t": "1"}}, n.acc, nil)
	if called("PostUserGroup", err) {
		var s nextgen.ResponseDtoUserGroup
		if ngStrict("PostUserGroup", &s) {
			eq("PostUserGroup identifier", s.Data.Identifier, ug)
			eq("PostUserGroup name", s.Data.Name, "Go SDK group")
		}
		out.UserGroup = ug
	}
	_, _, err = n.c.UserGroupApi.PutMember(n.ctx, n.acc, ug, n.user, nil)
	if called("PutMember", err) {
		var s nextgen.ResponseDtoUserGroup
		if ngStrict("PutMember", &s) {
			eq("PutMember users", s.Data.Users, []string{n.user})
		}
	}
	_, _, err = n.c.UserGroupApi.GetMember(n.ctx, n.acc, ug, n.user, nil)
	if called("GetMember", err) {
		var s nextgen.ResponseDtoBoolean
		if ngStrict("GetMember", &s) {
			eq("GetMember data", s.Data, true)
		}
	}
	_, _, err = n.c.UserGroupApi.GetUserGroup(n.ctx, n.acc, ug, nil)
	if called("GetUserGroup", err) {
		var s nextgen.ResponseDtoUserGroup
		if ngStrict("GetUserGroup", &s) {
			eq("GetUserGroup description", s.Data.Description, "ng group")
		}
	}
	_, _, err = n.c.UserGroupApi.GetUserGroupList(n.ctx, n.acc, &nextgen.UserGroupApiGetUserGroupListOpts{SearchTerm: optional.NewString(ug)})
	if called("GetUserGroupList", err) {
		var s nextgen.ResponseDtoPageResponseUserGroup
		if ngStrict("GetUserGroupList", &s) {
			eq("GetUserGroupList total", s.Data.TotalItems, int64(1))
		}
	}
	_, _, err = n.c.UserGroupApi.PutUserGroup(n.ctx, nextgen.UserGroup{AccountIdentifier: n.acc, Identifier: ug, Name: "Go SDK group renamed", Users: []string{n.user}}, n.acc, nil)
	if called("PutUserGroup", err) {
		var s nextgen.ResponseDtoUserGroup
		if ngStrict("PutUserGroup", &s) {
			eq("PutUserGroup name", s.Data.Name, "Go SDK group renamed")
		}
	}
	_, _, err = n.c.UserGroupApi.DeleteMember(n.ctx, n.acc, ug, n.user, nil)
	if called("DeleteMember", err) {
		var s nextgen.ResponseDtoUserGroup
		if ngStrict("DeleteMember", &s) {
			eq("DeleteMember users", len(s.Data.Users), 0)
		}
	}
	gug := n.p + "_ug_gone"
	_, _, err = n.c.UserGroupApi.PostUserGroup(n.ctx, nextgen.UserGroup{AccountIdentifier: n.acc, Identifier: gug, Name: "doomed"}, n.acc, nil)
	if called("PostUserGroup (doomed)", err) {
		_, _, err = n.c.UserGroupApi.DeleteUserGroup(n.ctx, n.acc, gug, nil)
		if called("DeleteUserGroup", err) {
			var s nextgen.ResponseDtoUserGroup
			if ngStrict("DeleteUserGroup", &s) {
				eq("DeleteUserGroup identifier", s.Data.Identifier, gug)
			}
		}
		_, _, err = n.c.UserGroupApi.GetUserGroup(n.ctx, n.acc, gug, nil)
		check(err != nil && rec.status == 404, "GetUserGroup after delete: want 404, got %d", rec.status)
	}

	ra := n.p + "_ra"
	_, _, err = n.c.RoleAssignmentsApi.PostRoleAssignment(n.ctx, nextgen.RoleAssignment{Identifier: ra, RoleIdentifier: "_account_viewer", ResourceGroupIdentifier: "_all_account_level_resources", Principal: &nextgen.AuthzPrincipal{Identifier: sa, Type_: "SERVICE_ACCOUNT"}}, n.acc, nil)
	if called("PostRoleAssignment", err) {
		var s nextgen.ResponseDtoRoleAssignmentResponse
		if ngStrict("PostRoleAssignment", &s) {
			eq("PostRoleAssignment identifier", s.Data.RoleAssignment.Identifier, ra)
			eq("PostRoleAssignment principal", s.Data.RoleAssignment.Principal.Identifier, sa)
		}
		out.RoleAssignment = ra
	}
	_, _, err = n.c.RoleAssignmentsApi.GetRoleAssignment(n.ctx, n.acc, ra, nil)
	if called("GetRoleAssignment", err) {
		var s nextgen.ResponseDtoRoleAssignmentResponse
		if ngStrict("GetRoleAssignment", &s) {
			eq("GetRoleAssignment role", s.Data.RoleAssignment.RoleIdentifier, "_account_viewer")
		}
	}
	_, _, err = n.c.RoleAssignmentsApi.GetRoleAssignmentList(n.ctx, n.acc, &nextgen.RoleAssignmentsApiGetRoleAssignmentListOpts{PageSize: optional.NewInt32(100)})
	if called("GetRoleAssignmentList", err) {
		var s nextgen.ResponseDtoPageResponseRoleAssignmentResponse
		if ngStrict("GetRoleAssignmentList", &s) {
			found := false
			for _, r := range s.Data.Content {
				found = found || r.RoleAssignment.Identifier == ra
			}
			check(found, "GetRoleAssignmentList: %s not listed", ra)
		}
	}
	ra2 := n.p + "_ra_gone"
	_, _, err = n.c.RoleAssignmentsApi.PostRoleAssignment(n.ctx, nextgen.RoleAssignment{Identifier: ra2, RoleIdentifier: "_account_viewer", ResourceGroupIdentifier: "_all_account_level_resources", Principal: &nextgen.AuthzPrincipal{Identifier: ug, Type_: "USER_GROUP"}}, n.acc, nil)
	if called("PostRoleAssignment (user group)", err) {
		_, _, err = n.c.RoleAssignmentsApi.DeleteRoleAssignment(n.ctx, n.acc, ra2, nil)
		if called("DeleteRoleAssignment", err) {
			var s nextgen.ResponseDtoRoleAssignmentResponse
			if ngStrict("DeleteRoleAssignment", &s) {
				eq("DeleteRoleAssignment identifier", s.Data.RoleAssignment.Identifier, ra2)
			}
		}
	}

	// A service account deleted with its keys and tokens.
	sa2 := n.p + "_sa_gone"
	_, _, err = n.c.ServiceAccountApi.CreateServiceAccount(n.ctx, nextgen.ServiceAccount{Identifier: sa2, Name: "doomed", Email: sa2 + "@service.harness.io", AccountIdentifier: n.acc}, n.acc, nil)
	if called("CreateServiceAccount (doomed)", err) {
		_, _, err = n.c.ServiceAccountApi.DeleteServiceAccount(n.ctx, n.acc, sa2, nil)
		if called("DeleteServiceAccount", err) {
			var s nextgen.ResponseDtoBoolean
			if ngStrict("DeleteServiceAccount", &s) {
				eq("DeleteServiceAccount data", s.Data, true)
			}
		}
	}
	return out
}

// ---- CG UserClient -----------------------------------------------------------------------------

type cgResult struct {
	User       string   `json:"user"`
	UserEmail  string   `json:"userEmail"`
	Group      string   `json:"group"`
	GroupName  string   `json:"groupName"`
	GroupPerms []string `json:"groupPermissions"`
}

// gql decodes the last GraphQL answer strictly: `data` into v, and no `errors`.
func gql(name string, v interface{}) bool {
	var env struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if !strict(name+" (envelope)", &env) {
		return false
	}
	check(len(env.Errors) == 0, "%s: errors %s", name, body())
	saved := rec.body
	rec.body = env.Data
	ok := strict(name, v)
	rec.body = saved
	return ok
}

func sorted(v []graphql.AccountPermissionType) []string {
	out := []string{}
	for _, x := range v {
		out = append(out, string(x))
	}
	sort.Strings(out)
	return out
}

func runCG(uc *cd.UserClient, p string) cgResult {
	var out cgResult
	email := strings.ToLower(p) + ".member@example.com"
	u, err := uc.CreateUser(&graphql.CreateUserInput{Name: p + " member", Email: email})
	if called("CreateUser", err) {
		var d struct{ CreateUser struct{ User graphql.User } }
		if gql("CreateUser", &d) {
			eq("CreateUser email", d.CreateUser.User.Email, email)
		}
		check(u.Id != "", "CreateUser: no id")
		out.User, out.UserEmail = u.Id, email
	}
	got, err := uc.GetUserById(out.User)
	if called("GetUserById", err) {
		var d struct{ User *graphql.User }
		gql("GetUserById", &d)
		check(got != nil && got.Name == p+" member", "GetUserById: %+v", got)
	}
	got, err = uc.GetUserByName(p + " member")
	if called("GetUserByName", err) {
		var d struct{ UserByName *graphql.User }
		gql("GetUserByName", &d)
		check(got != nil && got.Id == out.User, "GetUserByName: %+v", got)
	}
	got, err = uc.GetUserByEmail(strings.ToUpper(email))
	if called("GetUserByEmail", err) {
		var d struct{ UserByEmail *graphql.User }
		gql("GetUserByEmail", &d)
		check(got != nil && got.Id == out.User, "GetUserByEmail: %+v", got)
	}
	users, page, err := uc.ListUsers(100, 0)
	if called("ListUsers", err) {
		var d struct {
			Users struct {
				Nodes    []*graphql.User
				PageInfo *graphql.PageInfo
			}
		}
		gql("ListUsers", &d)
		found := false
		for _, x := range users {
			found = found || x.Id == out.User
		}
		check(found, "ListUsers: %s not listed", out.User)
		check(page != nil && page.Total >= 2 && page.Limit == 100, "ListUsers pageInfo: %+v", page)
	}
	upd, err := uc.UpdateUser(&graphql.UpdateUserInput{Id: out.User, Name: p + " member renamed"})
	if called("UpdateUser", err) {
		var d struct{ UpdateUser struct{ User graphql.User } }
		gql("UpdateUser", &d)
		eq("UpdateUser name", upd.Name, p+" member renamed")
	}
	// A second user, deleted; afterwards the SDK sees "gone" (nil, nil).
	u2, err := uc.CreateUser(&graphql.CreateUserInput{Name: p + " leaver", Email: strings.ToLower(p) + ".leaver@example.com"})
	if called("CreateUser (leaver)", err) {
		err = uc.DeleteUser(u2.Id)
		if called("DeleteUser", err) {
			var d struct {
				DeleteUser struct{ ClientMutationId *string }
			}
			gql("DeleteUser", &d)
		}
		gone, err := uc.GetUserById(u2.Id)
		check(err == nil && gone == nil, "GetUserById after delete: want nil, nil; got %+v, %v", gone, err)
	}

	// A user group with everything the SDK writes.
	name := p + " CG group"
	perms := &graphql.UserGroupPermissions{
		AccountPermissions: &graphql.AccountPermissions{AccountPermissionTypes: []graphql.AccountPermissionType{graphql.AccountPermissionTypes.MANAGE_USERS_AND_GROUPS, graphql.AccountPermissionTypes.VIEW_AUDITS, graphql.AccountPermissionTypes.MANAGE_DELEGATES}},
		AppPermissions: []*graphql.AppPermission{
			{PermissionType: graphql.AppPermissionTypes.All, Applications: &graphql.AppFilter{FilterType: graphql.FilterTypes.All}, Actions: []graphql.Action{graphql.Actions.READ, graphql.Actions.UPDATE}},
			{PermissionType: graphql.AppPermissionTypes.Env, Applications: &graphql.AppFilter{AppIds: []string{"app1"}}, Environments: &graphql.EnvPermissionFilter{FilterTypes: []graphql.EnvFilterType{graphql.EnvFilterTypes.ProductionEnvironments}}, Actions: []graphql.Action{graphql.Actions.READ}},
			{PermissionType: graphql.AppPermissionTypes.Workflow, Applications: &graphql.AppFilter{FilterType: graphql.FilterTypes.All}, Workflows: &graphql.WorkflowPermissionFilter{FilterTypes: []graphql.WorkflowPermissionFilterType{graphql.WorkflowPermissionFilterTypes.NonProductionWorkflows}}, Actions: []graphql.Action{graphql.Actions.EXECUTE_WORKFLOW}},
		},
	}
	notif := &graphql.NotificationSettings{GroupEmailAddresses: []string{"team@example.com"}, MicrosoftTeamsWebhookUrl: "https://teams.example.com/hook", SendMailToNewMembers: true, SendNotificationToMembers: true, SlackNotificationSetting: &graphql.SlackNotificationSetting{SlackChannelName: "#ops", SlackWebhookUrl: "https://hooks.slack.com/x"}}
	g, err := uc.CreateUserGroup(&graphql.UserGroup{Name: name, Description: "made by the Go SDK", NotificationSettings: notif, Permissions: perms, SAMLSettings: &graphql.SAMLSettings{GroupName: "saml-ops", SSOProviderId: "sso1"}})
	if called("CreateUserGroup", err) {
		var d struct {
			CreateUserGroup struct{ UserGroup graphql.UserGroup }
		}
		gql("CreateUserGroup", &d)
		check(g.Id != "", "CreateUserGroup: no id")
		eq("CreateUserGroup name", g.Name, name)
		eq("CreateUserGroup description", g.Description, "made by the Go SDK")
		eq("CreateUserGroup notificationSettings", g.NotificationSettings, notif)
		eq("CreateUserGroup account permissions", sorted(g.Permissions.AccountPermissions.AccountPermissionTypes), []string{"MANAGE_DELEGATES", "MANAGE_USERS_AND_GROUPS", "VIEW_AUDITS"})
		eq("CreateUserGroup app permissions", g.Permissions.AppPermissions, perms.AppPermissions)
		eq("CreateUserGroup samlSettings", g.SAMLSettings, &graphql.SAMLSettings{GroupName: "saml-ops", SSOProviderId: "sso1"})
		eq("CreateUserGroup ldapSettings (alias on a SAML group)", g.LDAPSettings, &graphql.LDAPSettings{})
		eq("CreateUserGroup isSSOLinked", g.IsSSOLinked, true)
		out.Group, out.GroupName = g.Id, name
	}
	byId, err := uc.GetUserGroupById(out.Group)
	if called("GetUserGroupById", err) {
		var d struct{ UserGroup *graphql.UserGroup }
		gql("GetUserGroupById", &d)
		check(byId != nil && reflect.DeepEqual(byId, g), "GetUserGroupById: read back %+v, created %+v", byId, g)
	}
	byName, err := uc.GetUserGroupByName(name)
	if called("GetUserGroupByName", err) {
		var d struct{ UserGroupByName *graphql.UserGroup }
		gql("GetUserGroupByName", &d)
		check(byName != nil && byName.Id == out.Group, "GetUserGroupByName: %+v", byName)
	}
	groups, gpage, err := uc.ListUserGroups(10, 0)
	if called("ListUserGroups", err) {
		var d struct {
			UserGroups struct {
				Nodes    []*graphql.UserGroup
				PageInfo *graphql.PageInfo
			}
		}
		gql("ListUserGroups", &d)
		found := false
		for _, x := range groups {
			found = found || x.Id == out.Group
		}
		check(found, "ListUserGroups: %s not listed in %d", out.Group, len(groups))
		check(gpage != nil && gpage.Limit == 10 && gpage.Total >= 1, "ListUserGroups pageInfo: %+v", gpage)
	}
	_, _, err = uc.ListUserGroups(100, 0)
	called("ListUserGroups (limit 100)", err)

	// Update: new description, notification settings and permissions.
	notif2 := &graphql.NotificationSettings{GroupEmailAddresses: []string{"a@example.com", "b@example.com"}, SendNotificationToMembers: true}
	perms2 := &graphql.UserGroupPermissions{AccountPermissions: &graphql.AccountPermissions{AccountPermissionTypes: []graphql.AccountPermissionType{graphql.AccountPermissionTypes.MANAGE_USERS_AND_GROUPS, graphql.AccountPermissionTypes.MANAGE_API_KEYS}}}
	up, err := uc.UpdateUserGroup(&graphql.UserGroup{Id: out.Group, Name: name, Description: "updated by the Go SDK", NotificationSettings: notif2, Permissions: perms2})
	if called("UpdateUserGroup", err) {
		var d struct {
			UpdateUserGroup struct{ UserGroup graphql.UserGroup }
		}
		gql("UpdateUserGroup", &d)
		eq("UpdateUserGroup description", up.Description, "updated by the Go SDK")
		eq("UpdateUserGroup notificationSettings", up.NotificationSettings, notif2)
		eq("UpdateUserGroup account permissions", sorted(up.Permissions.AccountPermissions.AccountPermissionTypes), []string{"MANAGE_API_KEYS", "MANAGE_USERS_AND_GROUPS"})
		eq("UpdateUserGroup app permissions", len(up.Permissions.AppPermissions), 0)
		eq("UpdateUserGroup keeps the SSO link", up.SAMLSettings, &graphql.SAMLSettings{GroupName: "saml-ops", SSOProviderId: "sso1"})
		out.GroupPerms = sorted(up.Permissions.AccountPermissions.AccountPermissionTypes)
	}

	// Membership.
	ok, err := uc.AddUserToGroup(out.User, out.Group)
	if called("AddUserToGroup", err) {
		var d struct {
			AddUserToUserGroup struct{ UserGroup graphql.UserGroup }
		}
		gql("AddUserToGroup", &d)
		check(ok, "AddUserToGroup returned false")
	}
	in, err := uc.IsUserInGroup(out.User, out.Group)
	if called("IsUserInGroup", err) {
		var d struct {
			User struct {
				Id         string
				Email      string
				UserGroups struct {
					Nodes    []*graphql.UserGroup
					PageInfo *graphql.PageInfo
				}
			}
		}
		gql("IsUserInGroup", &d)
		check(in, "IsUserInGroup: false after AddUserToGroup")
	}
	mine, mpage, err := uc.ListGroupMembershipByUserId(out.User, 10, 0)
	if called("ListGroupMembershipByUserId", err) {
		check(len(mine) == 1 && mine[0].Id == out.Group && mpage != nil && mpage.Total == 1, "ListGroupMembershipByUserId: %d groups, %+v", len(mine), mpage)
	}
	// A doomed group: the user is added, removed, and the group deleted.
	d2, err := uc.CreateUserGroup(&graphql.UserGroup{Name: p + " doomed group", LDAPSettings: &graphql.LDAPSettings{GroupDN: "cn=ops,dc=example,dc=com", GroupName: "ops", SSOProviderId: "ldap1"}})
	if called("CreateUserGroup (LDAP)", err) {
		eq("CreateUserGroup ldapSettings", d2.LDAPSettings, &graphql.LDAPSettings{GroupDN: "cn=ops,dc=example,dc=com", GroupName: "ops", SSOProviderId: "ldap1"})
		eq("CreateUserGroup samlSettings (alias on an LDAP group)", d2.SAMLSettings, &graphql.SAMLSettings{})
		_, err = uc.AddUserToGroup(out.User, d2.Id)
		called("AddUserToGroup (doomed)", err)
		ok, err = uc.RemoveUserFromGroup(out.User, d2.Id)
		if called("RemoveUserFromGroup", err) {
			var d struct {
				RemoveUserFromUserGroup struct{ UserGroup graphql.UserGroup }
			}
			gql("RemoveUserFromGroup", &d)
			check(ok, "RemoveUserFromGroup returned false")
		}
		in, err = uc.IsUserInGroup(out.User, d2.Id)
		check(err == nil && !in, "IsUserInGroup after RemoveUserFromGroup: %v, %v", in, err)
		err = uc.DeleteUserGroup(d2.Id)
		if called("DeleteUserGroup", err) {
			var d struct {
				DeleteUserGroup struct{ ClientMutationId *string }
			}
			gql("DeleteUserGroup", &d)
		}
		gone, err := uc.GetUserGroupById(d2.Id)
		check(err == nil && gone == nil, "GetUserGroupById after delete: want nil, nil (the SDK's \"No User Group exists\"); got %+v, %v", gone, err)
		goneByName, err := uc.GetUserGroupByName(p + " doomed group")
		check(err == nil && goneByName == nil, "GetUserGroupByName after delete: want nil, nil; got %+v, %v", goneByName, err)
	}
	return out
}

// ---- main --------------------------------------------------------------------------------------

func main() {
	endpoint := flag.String("endpoint", "", "Keyward's URL, or URL + /gateway")
	account := flag.String("account", "", "account id")
	token := flag.String("token", "", "an Account Admin's token")
	user := flag.String("user", "", "that admin's user id")
	prefix := flag.String("prefix", "gosdk", "prefix of what this run creates")
	now := flag.Int64("now", time.Now().UnixNano()/int64(time.Millisecond), "the server's clock, epoch ms")
	flag.Parse()
	if *endpoint == "" || *account == "" || *token == "" || *user == "" {
		fmt.Println("FAIL usage: -endpoint -account -token -user are required")
		os.Exit(2)
	}
	logger := logging.NewLogger()
	logger.SetLevel(log.WarnLevel)
	httpClient := func() *retryablehttp.Client {
		c := retryablehttp.NewClient()
		c.RetryMax = 0
		c.Logger = nil
		c.HTTPClient.Transport = rec
		return c
	}

	cfg := nextgen.NewConfiguration()
	cfg.BasePath = *endpoint
	cfg.AccountId = *account
	cfg.ApiKey = *token
	cfg.HTTPClient = httpClient()
	cfg.Logger = logger
	n := &ng{c: nextgen.NewAPIClient(cfg), ctx: context.WithValue(context.Background(), nextgen.ContextAPIKey, nextgen.APIKey{Key: *token}), acc: *account, p: *prefix, user: *user, now: *now}
	ngOut := n.run()
	ngCalls := rec.calls

	client, err := cd.NewClient(&cd.Config{AccountId: *account, APIKey: *token, Endpoint: *endpoint, HTTPClient: httpClient(), Logger: logger, DefaultHeaders: map[string]string{}, UserAgent: "keyward-go-sdk-check"})
	if err != nil {
		fail("cd.NewClient: %s", err)
	}
	cgOut := runCG(client.UserClient, *prefix)

	res, _ := json.Marshal(map[string]interface{}{"ng": ngOut, "cg": cgOut, "ngCalls": ngCalls, "cgCalls": rec.calls - ngCalls, "checks": checks, "failures": failures})
	fmt.Printf("RESULT %s\n", res)
	if failures > 0 {
		os.Exit(1)
	}
}
